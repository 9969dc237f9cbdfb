import { onBeforeUnmount, ref, watch, type Ref } from 'vue';
import { errorText } from '../../../shared/api.ts';
import { countFilter } from '../../../shared/customers.ts';
import { cleanFilter, type CustomerFilter } from '../../../shared/filter.ts';

export const COUNT_DEBOUNCE_MS = 250;

/**
 * The segment editor's live count: one POST /api/admin/segments/count per pause in editing, not per
 * key, and an answer for an older filter never overwrites a newer one (requests can overtake).
 */
export function useLiveCount(filter: Ref<CustomerFilter>, delay = COUNT_DEBOUNCE_MS) {
  const count = ref<number | null>(null);
  const counting = ref(false);
  const error = ref<string | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let latest = 0;

  async function run() {
    const mine = ++latest;
    counting.value = true;
    try {
      const { count: n } = await countFilter(cleanFilter(filter.value));
      if (mine !== latest) return;
      count.value = n;
      error.value = null;
    } catch (err) {
      if (mine === latest) error.value = errorText(err);
    } finally {
      if (mine === latest) counting.value = false;
    }
  }
  watch(
    () => JSON.stringify(cleanFilter(filter.value)),
    () => {
      clearTimeout(timer);
      counting.value = true;
      timer = setTimeout(run, delay);
    },
    { immediate: true },
  );
  onBeforeUnmount(() => clearTimeout(timer));
  return { count, counting, error };
}
