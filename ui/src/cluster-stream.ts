// The member's own view of the cluster, pushed as Server-Sent Events at
// /ui/events (server/http/console-events.ts). Another member's view comes
// from its own client URL (the client port answers any origin, as etcd's).
import { useEffect, useState } from 'preact/hooks';
import type { ClusterView } from '../../server/http/console-view.js';

export type { ClusterView };

/** How long after a refused stream it is asked for again. */
const refusedRetryMs = 5_000;

export type StreamState = { readonly kind: 'connecting' } | { readonly kind: 'open'; readonly view: ClusterView } | { readonly kind: 'lost'; readonly view: ClusterView | undefined };

/**
 * A member's view at `url` (its /ui/events), while mounted. The browser's
 * EventSource reconnects by itself after a loss; the state says which.
 */
export function useClusterView(url: string | undefined): StreamState {
  const [state, setState] = useState<StreamState>({ kind: 'connecting' });
  useEffect(() => {
    if (url === undefined) return;
    setState({ kind: 'connecting' });
    let last: ClusterView | undefined;
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const connect = (): void => {
      source = new EventSource(url);
      source.addEventListener('cluster', (event) => {
        last = JSON.parse((event as MessageEvent<string>).data) as ClusterView;
        setState({ kind: 'open', view: last });
      });
      source.addEventListener('error', () => {
        setState({ kind: 'lost', view: last });
        // The browser retries a dropped stream by itself, but not one refused (a 503): that is tried again here.
        if (source?.readyState === EventSource.CLOSED) retry = setTimeout(connect, refusedRetryMs);
      });
    };
    connect();
    return () => {
      clearTimeout(retry);
      source?.close();
    };
  }, [url]);
  return state;
}
