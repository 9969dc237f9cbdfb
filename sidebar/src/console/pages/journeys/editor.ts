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
  add: (lane: LaneRef, type: StepType) => void;
  move: (id: string, delta: -1 | 1) => void;
  remove: (id: string) => void;
}

export const FLOW_EDITOR: InjectionKey<FlowEditor> = Symbol('flow-editor');
