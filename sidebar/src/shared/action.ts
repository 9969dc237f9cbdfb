import { ref } from 'vue';
import { errorText } from './api.ts';

/** Runs an async action, keeping its busy flag and error message for the template. */
export function useAction() {
  const busy = ref(false);
  const error = ref<string | null>(null);
  async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
    busy.value = true;
    error.value = null;
    try {
      return await action();
    } catch (err) {
      error.value = errorText(err);
      return undefined;
    } finally {
      busy.value = false;
    }
  }
  return { busy, error, run };
}
