// The member's own view of the cluster, pushed as Server-Sent Events at
// /ui/events (server/http/console-events.ts). Another member's view comes
// from its own client URL (the client port answers any origin, as etcd's).
import { useEffect, useState } from 'preact/hooks';
import type { ClusterView } from '../../server/http/console-view.js';

export type { ClusterView };

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
    const source = new EventSource(url);
    source.addEventListener('cluster', (event) => {
      last = JSON.parse((event as MessageEvent<string>).data) as ClusterView;
      setState({ kind: 'open', view: last });
    });
    source.addEventListener('error', () => setState({ kind: 'lost', view: last }));
    return () => source.close();
  }, [url]);
  return state;
}
