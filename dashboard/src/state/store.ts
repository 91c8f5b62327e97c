import { computed, signal } from '@preact/signals';
import type { FeedState } from '../client/subscribe.ts';
import type { Algorithm, Model, Result, Target, TargetData } from './types.ts';

/** The page's state: what the gateway said last, and what is open. Components read these signals. */

/** 'boot' until the first refresh of the session answers. */
export const view = signal<'boot' | 'signin' | 'app'>('boot');
export const signInMessage = signal('');

export const targets = signal<Target[]>([]);
export const algorithms = signal<Algorithm[]>([]);
export const target = signal<TargetData | null>(null);
export const models = signal<Model[]>([]);
export interface Training {
  ok: number;
  ng: number;
  total: number;
  labelled: { id: string; good: boolean | null }[];
}
export const training = signal<Training>({ ok: 0, ng: 0, total: 0, labelled: [] });

/** The model the live results follow; undefined: not decided yet (after a target switch). */
export const activeModelId = signal<string | null | undefined>(null);

export interface ResultCard {
  result: Result;
  /** Arrived live (highlighted once). */
  fresh: boolean;
  /** Review done: what the card says instead of its buttons. */
  reviewed?: { text: string; agrees: boolean };
}
export const FEED_LIMIT = 60;
/** The live results, newest first. */
export const results = signal<ResultCard[]>([]);

/** Models ticked for export. */
export const selected = signal<ReadonlySet<string>>(new Set());
/** Results reviewed into training since the last retrain. */
export const reviewed = signal(0);
export const retrainOffered = signal(false);

/** The state of each live feed; the header shows the connection, not whether a model is active. */
export const feeds = signal<{ training: FeedState; results: FeedState }>({ training: 'off', results: 'off' });
export const liveState = computed<FeedState>(() => {
  const running = Object.values(feeds.value).filter((v) => v !== 'off');
  return !running.length ? 'off' : running.includes('retrying') ? 'retrying' : running.includes('connecting') ? 'connecting' : 'live';
});
export const setFeed = (feed: 'training' | 'results', state: FeedState) => {
  feeds.value = { ...feeds.value, [feed]: state };
};

/** The open dialog (one at a time) and the picture viewer. */
export type Panel =
  | { kind: 'tune'; model: Model }
  | { kind: 'compare' }
  | { kind: 'admin' }
  | { kind: 'regions'; model: Model | null }
  | { kind: 'review'; result: Result };
export const panel = signal<Panel | null>(null);
export const viewer = signal<Result | null>(null);

export const activeModel = computed(() => models.value.find((m) => m.active) ?? null);
