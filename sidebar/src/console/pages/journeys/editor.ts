import type { InjectionKey, Ref } from 'vue';
import type { StepType, Target } from '../../../shared/journey.ts';
import type { LaneRef } from './flow.ts';

/** What every part of the drawn flow may do; provided once by the page instead of re-emitted up each lane. */
export interface FlowEditor {
  target: Ref<Target>;
  selected: Ref<string | null>;
  /** The step's problems in the operator's words. */
  problemsOf: (id: string) => string[];
  select: (id: string) => void;
  /** Adds a step to the lane at `index` (its end when left out), and selects it. */
  add: (lane: LaneRef, type: StepType, index?: number) => void;
  /** The one add-step menu open in the whole flow (`end:<lane>` or `after:<stepId>`): opening one closes the others. */
  openMenu: Ref<string | null>;
  move: (id: string, delta: -1 | 1) => void;
  remove: (id: string) => void;
}

export const FLOW_EDITOR: InjectionKey<FlowEditor> = Symbol('flow-editor');
