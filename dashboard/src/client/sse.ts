/** Server-sent events of a fetch body (EventSource cannot send an Authorization header). */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; data: string }> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      // A CR at the end of a chunk may be half of a CRLF: keep it for the next chunk.
      const held = buf.endsWith('\r') ? '\r' : '';
      buf = buf.slice(0, buf.length - held.length).replace(/\r\n?/g, '\n');
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (!line || line.startsWith(':')) continue;
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'event') event = val;
          else if (field === 'data') data.push(val);
        }
        if (data.length || event !== 'message') yield { event, data: data.join('\n') };
      }
      buf += held;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
}
