// The cluster page: the members with their roles, each member's own raft
// term and indexes, database size and alarms, from each member's stream of
// its view (cluster-stream.ts); and the leader changes seen since the page
// opened. A member whose stream is lost shows as unreachable until the
// browser reconnects to it.
import { useEffect, useRef, useState } from 'preact/hooks';
import { useClusterView, type ClusterView, type StreamState } from '../cluster-stream.js';

const homeStream = '/ui/events';
/** Leader changes the page keeps. */
const changesMax = 50;

interface LeaderChange {
  readonly atMs: number;
  readonly term: string;
  readonly leader: string;
}

export function ClusterPage() {
  const home = useClusterView(homeStream);
  const changes = useLeaderChanges(home);
  const view = home.kind === 'connecting' ? undefined : home.view;
  if (view === undefined) return <p class="loading">Connecting…</p>;
  const nameOf = (id: string): string => view.members.find((member) => member.id === id)?.name || id;
  return (
    <div class="cluster-page">
      <h1>Cluster</h1>
      <p class="cluster-summary" role="status">
        {view.leader === '0' ? 'No leader' : <>Leader <strong class="leader-name">{nameOf(view.leader)}</strong></>} · term {view.raftTerm} · {view.members.length} {view.members.length === 1 ? 'member' : 'members'}
        {home.kind === 'lost' ? ` · lost the connection to ${view.member.name || view.member.id}, reconnecting…` : ''}
      </p>
      {view.alarms.length > 0 && (
        <p class="error" role="alert">Alarms: {view.alarms.map((raised) => `${raised.alarm} on ${nameOf(raised.memberId)}`).join(', ')}</p>
      )}
      <table class="members">
        <thead>
          <tr>
            <th scope="col">Name</th><th scope="col">ID</th><th scope="col">Role</th><th scope="col">Health</th><th scope="col">Term</th>
            <th scope="col">Raft index</th><th scope="col">Applied</th><th scope="col">Revision</th><th scope="col">DB size</th><th scope="col">Client URLs</th>
          </tr>
        </thead>
        <tbody>
          {view.members.map((member) => (
            <MemberRow key={member.id} member={member} leader={view.leader} home={member.id === view.member.id ? home : undefined} />
          ))}
        </tbody>
      </table>
      <h2>Leader changes</h2>
      <ol class="leader-changes" reversed>
        {changes.map((change) => (
          <li key={`${change.term}-${change.leader}`}>
            {new Date(change.atMs).toLocaleTimeString()} — term {change.term}: {change.leader === '0' ? 'no leader' : `${nameOf(change.leader)} leads`}
          </li>
        ))}
      </ol>
    </div>
  );
}

function MemberRow({ member, leader, home }: { member: ClusterView['members'][number]; leader: string; home: StreamState | undefined }) {
  const clientUrl = member.clientURLs[0];
  // The page's own member is already streaming; others stream from their own client URL.
  const remote = useClusterView(home === undefined && clientUrl !== undefined ? `${clientUrl}${homeStream}` : undefined);
  const state = home ?? remote;
  const own = state.kind === 'open' ? state.view : undefined;
  const role = member.isLearner ? 'learner' : member.id === leader ? 'leader' : 'follower';
  return (
    <tr class={role}>
      <td>{member.name || '(not started)'}</td>
      <td><code>{member.id}</code></td>
      <td>{role}</td>
      <td>{health(state, clientUrl)}</td>
      <td>{own?.raftTerm ?? ''}</td>
      <td>{own?.raftIndex ?? ''}</td>
      <td>{own?.appliedIndex ?? ''}</td>
      <td>{own?.revision ?? ''}</td>
      <td>{own === undefined ? '' : `${formatBytes(own.dbSizeBytes)} (${formatBytes(own.dbSizeInUseBytes)} in use)`}</td>
      <td>{member.clientURLs.join(', ')}</td>
    </tr>
  );
}

function health(state: StreamState, clientUrl: string | undefined): string {
  if (clientUrl === undefined) return 'not started';
  if (state.kind === 'connecting') return 'connecting…';
  if (state.kind === 'lost') return 'unreachable';
  if (state.view.leader === '0') return 'no leader';
  return state.view.alarms.length > 0 ? 'alarm' : 'healthy';
}

/** Each (term, leader) the page's member reported, newest first. */
function useLeaderChanges(home: StreamState): readonly LeaderChange[] {
  const [changes, setChanges] = useState<readonly LeaderChange[]>([]);
  const last = useRef('');
  useEffect(() => {
    if (home.kind !== 'open') return;
    const key = `${home.view.raftTerm}/${home.view.leader}`;
    if (key === last.current) return;
    last.current = key;
    setChanges((current) => [{ atMs: Date.now(), term: home.view.raftTerm, leader: home.view.leader }, ...current].slice(0, changesMax));
  }, [home]);
  return changes;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
