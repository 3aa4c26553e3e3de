// GET /ui/events: this member's view of the cluster — who leads, at which
// term, the members and their roles, alarms, indexes, the database's size —
// as Server-Sent Events, for the console's cluster page. etcd's API has no
// watch for leadership or membership, so the member pushes its view instead
// of the page polling Status: it looks every `sampleMs` on its clock and
// sends at once when leadership, term, members or alarms changed, and every
// `progressMs` while only indexes and sizes move. What it shows is what the
// Status and MemberList RPCs show without a token, as in etcd (and /metrics).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServiceContext } from '../api/context.js';
import { AlarmType } from '../../proto/gen/etcdserverpb/rpc.js';
import { raftNodeId } from '../membership/ids.js';
import { allowMethod, sendError, type HttpRoute } from './respond.js';
import type { ClusterView } from './console-view.js';

export const consoleEventsPath = '/ui/events';

/** How often the member looks at its state. */
const sampleMs = 250;
/** How often a view whose only changes are indexes and sizes is sent. */
const progressMs = 2_000;
/** A comment line this often keeps idle proxies from closing the stream. */
const keepAliveMs = 15_000;
/** Open streams a member serves at once, and from one client address; more are refused with 503. */
export const consoleStreamsMax = 64;
export const consoleStreamsPerAddressMax = 16;
/** Bytes a stream may have waiting for its reader; a reader that falls this far behind is cut off. */
const unreadBytesMax = 256 * 1024;

export function clusterView(context: ServiceContext): ClusterView {
  const { node, membership, store, backend, alarms } = context;
  const progress = node.isLeader ? node.progress() : undefined;
  return {
    member: { id: context.memberId.toString(16), name: membership.get(context.memberId)?.name ?? context.config.name },
    leader: node.leaderId.toString(16),
    raftTerm: node.term.toString(),
    raftIndex: node.committedIndex,
    appliedIndex: node.appliedIndexValue,
    revision: store.currentRevision,
    compactRevision: store.compactRevision,
    dbSizeBytes: backend.sizeBytes(),
    dbSizeInUseBytes: backend.sizeInUseBytes(),
    isLearner: node.isLearner,
    alarms: alarms.list(AlarmType.NONE).map((raised) => ({ memberId: raised.memberID.toString(16), alarm: AlarmType[raised.alarm] ?? String(raised.alarm) })),
    members: membership.list().map((member) => {
      const match = progress?.get(raftNodeId(member.ID))?.match;
      return {
        id: member.ID.toString(16), name: member.name, peerURLs: member.peerURLs, clientURLs: member.clientURLs, isLearner: member.isLearner,
        ...(match === undefined ? {} : { matchIndex: match }),
      };
    }),
  };
}

/** The parts of a view whose change is sent at once. */
function shapeOf(view: ClusterView): string {
  return JSON.stringify([view.leader, view.raftTerm, view.isLearner, view.alarms, view.members.map((member) => [member.id, member.name, member.isLearner, member.clientURLs, member.peerURLs])]);
}

/** The parts of a view that move with every write: sent at most every `progressMs`. */
function progressOf(view: ClusterView): string {
  return JSON.stringify([view.raftIndex, view.appliedIndex, view.revision, view.dbSizeBytes, view.members.map((member) => member.matchIndex)]);
}

export function consoleEventsRoute(context: ServiceContext): HttpRoute {
  let open = 0;
  const openByAddress = new Map<string, number>();
  return (request: IncomingMessage, response: ServerResponse) => {
    if (!allowMethod(request, response, 'GET')) return;
    const address = request.socket.remoteAddress ?? '';
    if (open >= consoleStreamsMax) return sendError(response, 503, `too many console streams (at most ${consoleStreamsMax} per member)`);
    if ((openByAddress.get(address) ?? 0) >= consoleStreamsPerAddressMax) {
      return sendError(response, 503, `too many console streams from one address (at most ${consoleStreamsPerAddressMax})`);
    }
    open++;
    openByAddress.set(address, (openByAddress.get(address) ?? 0) + 1);
    let sampler: { cancel(): void } | undefined;
    response.once('close', () => {
      sampler?.cancel();
      open--;
      const left = (openByAddress.get(address) ?? 1) - 1;
      if (left === 0) openByAddress.delete(address);
      else openByAddress.set(address, left);
    });
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' });
    const write = (text: string): void => {
      // A reader that does not read is not buffered for without end.
      if (response.writableLength > unreadBytesMax) return void response.destroy();
      response.write(text);
    };
    let sentShape = '';
    let sentIndexes = '';
    let sentAtMs = 0;
    let quietSinceMs = context.clock.nowMs();
    const send = (view: ClusterView): void => {
      sentShape = shapeOf(view);
      sentIndexes = progressOf(view);
      sentAtMs = context.clock.nowMs();
      quietSinceMs = sentAtMs;
      write(`event: cluster\ndata: ${JSON.stringify(view)}\n\n`);
    };
    send(clusterView(context));
    sampler = context.clock.every(sampleMs, () => {
      const view = clusterView(context);
      const now = context.clock.nowMs();
      if (shapeOf(view) !== sentShape) return send(view);
      const moved = progressOf(view) !== sentIndexes;
      if (moved && now - sentAtMs >= progressMs) return send(view);
      if (now - quietSinceMs >= keepAliveMs) {
        quietSinceMs = now;
        write(': keep-alive\n\n');
      }
    });
  };
}
