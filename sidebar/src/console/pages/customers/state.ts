import { ref } from 'vue';
import type { CustomerFilter, Sort } from '../../../shared/filter.ts';

/** The list's filter and sort live outside the page, so opening a customer and coming back keeps them. */
export const listFilter = ref<CustomerFilter>({});
export const listSort = ref<Sort>({ field: 'lastActivityAt', dir: 'desc' });
