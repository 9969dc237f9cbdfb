import { useI18n } from 'vue-i18n';
import type { Reason } from './types.ts';

/** A score or ranking reason in the reader's language; the server's Chinese text when the code is new to us. */
export function useReasonText() {
  const { t, te } = useI18n();
  return (reason: Reason) => {
    const key = `sidebar.reason.${reason.code}`;
    if (!te(key)) return reason.text;
    const value = reason.code === 'stage' && te(`common.stage.${reason.value}`) ? t(`common.stage.${reason.value}`) : reason.value;
    return t(key, { value });
  };
}

/** Dates and times in the reader's locale and the device's time zone (the rep's own). */
export function useDates() {
  const { locale } = useI18n();
  return {
    date: (iso: string) => new Date(iso).toLocaleDateString(locale.value),
    dateTime: (iso: string) => new Date(iso).toLocaleString(locale.value, { month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit' }),
  };
}
