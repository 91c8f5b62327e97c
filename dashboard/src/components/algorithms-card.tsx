import { algorithms } from '../state/store.ts';

export function AlgorithmsCard() {
  return (
    <section class="card">
      <h2>
        Algorithms{' '}
        <span id="algorithm-count" class="count">
          {String(algorithms.value.length)}
        </span>
      </h2>
      <ul id="algorithms" class="algorithms">
        {algorithms.value.map((a) => (
          <li key={a.id}>
            <strong>{a.name}</strong>
            <span class="muted small">{[a.version && ` v${a.version}`, a.type && ` · ${a.type}`].filter(Boolean).join('')}</span>
            {a.description ? (
              <div class="desc" title={a.description}>
                {a.description}
              </div>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
