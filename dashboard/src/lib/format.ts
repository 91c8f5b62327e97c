export const fmt = (n: number | null | undefined, d = 3) => (n == null || Number.isNaN(n) ? '–' : Number(n).toFixed(d));
export const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
export const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 'es'}`;
export const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
