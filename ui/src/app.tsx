// The console's frame: the navigation and the page the location's hash names.
import { useEffect, useState } from 'preact/hooks';
import { loggedInUser, loginRequiredEvent, logOut } from './gateway.js';
import { Login } from './components/login.js';
import { pages, routeOf, type Route } from './routes.js';
import { KeysPage } from './pages/keys.js';
import { WatchPage } from './pages/watch.js';
import { ClusterPage } from './pages/cluster.js';
import { LeasesPage } from './pages/leases.js';
import { CoordinationPage } from './pages/coordination.js';

export function App() {
  const [route, setRoute] = useState<Route>(() => routeOf(location.hash));
  useEffect(() => {
    let page = routeOf(location.hash).page;
    const follow = (): void => {
      const next = routeOf(location.hash);
      // Another page: the focus moves to it, so that keyboard and screen-reader users land there.
      if (next.page !== page) queueMicrotask(() => document.getElementById('main')?.focus());
      page = next.page;
      setRoute(next);
    };
    addEventListener('hashchange', follow);
    return () => removeEventListener('hashchange', follow);
  }, []);
  // A call that needs a user shows the login; logging in starts the page again with the token.
  const [loginReason, setLoginReason] = useState<string | undefined>(undefined);
  const [sessions, setSessions] = useState(0);
  useEffect(() => {
    const ask = (event: Event): void => setLoginReason((event as CustomEvent<string>).detail);
    addEventListener(loginRequiredEvent, ask);
    return () => removeEventListener(loginRequiredEvent, ask);
  }, []);
  const user = loggedInUser();
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
        {user !== undefined && (
          <span class="session">
            {user} <button type="button" onClick={() => { logOut(); location.reload(); }}>Log out</button>
          </span>
        )}
      </header>
      <main id="main" tabIndex={-1} key={sessions}>
        {loginReason !== undefined ? (
          <Login reason={loginReason} onDone={() => { setLoginReason(undefined); setSessions((count) => count + 1); }} />
        ) : (
          <Page route={route} />
        )}
      </main>
    </>
  );
}

function Page({ route }: { route: Route }) {
  return (
    <>
      {/* A new root is a new tree. */}
      {route.page === 'keys' && <KeysPage key={route.params.get('root') ?? ''} params={route.params} />}
      {route.page === 'watch' && <WatchPage params={route.params} />}
      {route.page === 'leases' && <LeasesPage params={route.params} />}
      {route.page === 'coordination' && <CoordinationPage params={route.params} />}
      {route.page === 'cluster' && <ClusterPage />}
    </>
  );
}

/** The skip link moves the focus, not the location: the hash names the page. */
function skipToContent(event: MouseEvent): void {
  event.preventDefault();
  document.getElementById('main')?.focus();
}
