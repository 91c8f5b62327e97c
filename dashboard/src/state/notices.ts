import { signal } from '@preact/signals';
import { GraphQLFailure, type GraphQLErrorShape } from '../client/failure.ts';

export interface Notice {
  key: string;
  text: string;
  kind: 'error' | 'ok' | 'info';
  lines: GraphQLErrorShape[];
}

/** Bottom-right messages, newest first; errors stay 15 s, the rest 5 s. */
export const notices = signal<Notice[]>([]);

export const dismiss = (key: string) => {
  notices.value = notices.value.filter((n) => n.key !== key);
};

export function notify(text: string, err?: unknown, kind?: Notice['kind']) {
  const error = err == null ? null : err;
  // The same notice twice (e.g. both live feeds losing the gateway) shows once.
  const key = `${text}\n${error instanceof Error ? error.message : error ? String(error) : ''}`;
  if (notices.value.some((n) => n.key === key)) return;
  const lines = !error
    ? []
    : error instanceof GraphQLFailure
      ? error.errors.slice(0, 4)
      : [{ message: error instanceof Error ? error.message : String(error) }];
  notices.value = [{ key, text, kind: kind ?? (error ? 'error' : 'ok'), lines }, ...notices.value];
  setTimeout(() => dismiss(key), error ? 15_000 : 5_000);
}
