// The console's frame: the navigation and the page the location's hash names.
import { useEffect, useState } from 'preact/hooks';
import { pages, routeOf, type Route } from './routes.js';
import { KeysPage } from './pages/keys.js';
import { WatchPage } from './pages/watch.js';
import { ClusterPage } from './pages/cluster.js';
import { LeasesPage } from './pages/leases.js';
import { CoordinationPage } from './pages/coordination.js';

export function App() {
  const [route, setRoute] = useState<Route>(() => routeOf(location.hash));
  useEffect(() => {
    const follow = (): void => setRoute(routeOf(location.hash));
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  const title = pages.find((page) => page.path === route.page)?.title ?? '';
  useEffect(() => {
    document.title = `${title} · cairn console`;
  }, [title]);
  return (
    <>
      <a class="skip" href="#main" onClick={skipToContent}>Skip to content</a>
      <header class="top">
        <span class="brand">cairn</span>
        <nav aria-label="Pages">
          <ul>
            {pages.map((page) => (
              <li key={page.path}>
                <a href={`#/${page.path}`} aria-current={page.path === route.page ? 'page' : undefined}>{page.title}</a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'keys' && <KeysPage params={route.params} />}
        {route.page === 'watch' && <WatchPage params={route.params} />}
        {route.page === 'leases' && <LeasesPage params={route.params} />}
        {route.page === 'coordination' && <CoordinationPage params={route.params} />}
        {route.page === 'cluster' && <ClusterPage />}
      </main>
    </>
  );
}

/** The skip link moves the focus, not the location: the hash names the page. */
function skipToContent(event: MouseEvent): void {
  event.preventDefault();
  document.getElementById('main')?.focus();
}
