import { useEffect } from 'preact/hooks';
import { AdminPanel } from './components/admin-panel.tsx';
import { AlgorithmsCard } from './components/algorithms-card.tsx';
import { ComparePanel } from './components/compare-panel.tsx';
import { FeedColumn } from './components/feed-column.tsx';
import { HeaderBar } from './components/header-bar.tsx';
import { ModelsCard } from './components/models-card.tsx';
import { Notices } from './components/notices.tsx';
import { RegionsPanel } from './components/regions-panel.tsx';
import { ReviewPanel } from './components/review-panel.tsx';
import { SignIn } from './components/sign-in.tsx';
import { TrainingCard } from './components/training-card.tsx';
import { TunePanel } from './components/tune-panel.tsx';
import { ViewerPanel } from './components/viewer-panel.tsx';
import { boot } from './state/sign-in.ts';
import { panel, view, viewer } from './state/store.ts';

function OpenPanel() {
  const p = panel.value;
  if (!p) return null;
  switch (p.kind) {
    case 'tune':
      return <TunePanel key={p.model.id} model={p.model} />;
    case 'compare':
      return <ComparePanel />;
    case 'admin':
      return <AdminPanel />;
    case 'regions':
      return <RegionsPanel key={p.model?.id ?? 'target'} model={p.model} />;
    case 'review':
      return <ReviewPanel key={p.result.id} result={p.result} />;
  }
}

/** The line dashboard: everything it shows comes from the gateway's GraphQL API. */
export function App() {
  useEffect(() => {
    void boot();
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      viewer.value = null;
      panel.value = null;
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  return (
    <>
      <HeaderBar />
      <SignIn />
      <main id="app" hidden={view.value !== 'app'}>
        <aside class="side">
          <ModelsCard />
          <TrainingCard />
          <AlgorithmsCard />
        </aside>
        <FeedColumn />
      </main>
      <ViewerPanel />
      <OpenPanel />
      <Notices />
    </>
  );
}
