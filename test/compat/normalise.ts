// Turns what etcdctl (or a raw gRPC call) printed into a value that is equal
// on etcd and on cairn exactly when the two servers behaved the same.
//
// Only what legitimately differs between two servers is removed:
// - the response header's cluster_id, member_id and raft_term (the revision stays;
//   `header` or, in `watch -w json`, `Header`);
// - the server's own address (the two servers listen on different ports);
// - the member ID, version string, db size and raft indexes in `endpoint status`
//   ("is leader" is kept, as a boolean);
// - the member ID of an alarm (`alarm list`, `alarm disarm`, Status errors): the
//   alarms a server raises itself carry its own ID;
// - timings (`endpoint health` "took"), and the log fields of the Go client that
//   name a random connection ID or a timestamp;
// - in `-w fields` output, the ClusterID, MemberID and RaftTerm lines' values.
// Everything else — revisions, versions, values, counts, `more`, hashes, exit
// codes, error messages and gRPC codes — is kept and compared.
import type { EtcdctlResult } from '../harness/etcdctl.js';

export interface NormalisedRun {
  code: number | null;
  /** One entry per output line; a line that is JSON is parsed and normalised. */
  stdout: unknown[];
  stderr: unknown[];
}

/** What the comparison must not see: the header fields that name a member or a term. */
const headerFieldsDropped = ['cluster_id', 'member_id', 'raft_term', 'clusterId', 'memberId', 'raftTerm'];

/** `endpoint status` JSON fields that depend on the implementation, not on the history of writes. */
const statusFieldsDropped = ['version', 'dbSize', 'dbSizeInUse', 'raftIndex', 'raftTerm', 'raftAppliedIndex'];

/** Columns of `endpoint status` in the simple/table format (etcdctl 3.4 `printer.go` makeEndpointStatusTable). */
const statusColumns = ['endpoint', 'ID', 'version', 'db size', 'is leader', 'is learner', 'raft term', 'raft index', 'raft applied index', 'errors'];
const statusColumnsKept = new Set(['endpoint', 'is leader', 'is learner', 'errors']);

export function normaliseRun(result: EtcdctlResult, endpoint: string, command: readonly string[]): NormalisedRun {
  const isStatus = command[0] === 'endpoint' && command[1] === 'status';
  const stdout = lines(hideEndpoint(result.stdout, endpoint)).map((line) => normaliseStdoutLine(line, isStatus));
  const stderr = lines(hideEndpoint(result.stderr, endpoint)).map(normaliseStderrLine);
  return { code: result.code, stdout, stderr };
}

function lines(text: string): string[] {
  const all = text.split('\n');
  if (all.length > 0 && all[all.length - 1] === '') all.pop();
  return all;
}

function hideEndpoint(text: string, endpoint: string): string {
  return text.split(endpoint).join('<endpoint>');
}

function normaliseStdoutLine(text: string, isStatus: boolean): unknown {
  const line = hideAlarmMembers(text);
  const parsed = parseJson(line);
  if (parsed !== undefined) return isStatus ? normaliseStatusJson(parsed) : normaliseJson(parsed);
  if (isStatus) return normaliseStatusLine(line);
  // `-w fields`: one `"Name" : value` line per field, header fields included.
  const field = /^"(ClusterID|MemberID|RaftTerm)" : /.exec(line);
  if (field !== null) return `"${field[1]}" : <dropped>`;
  return line;
}

/**
 * An alarm's member ID, as etcdctl prints it in text (`memberID:123 alarm:NOSPACE `,
 * also inside Status errors) and in JSON (`"memberID":123`).
 */
function hideAlarmMembers(line: string): string {
  return line.replace(/"memberID":\d+/g, '"memberID":"<member>"').replace(/memberID:\d+/g, 'memberID:<member>');
}

/**
 * JSON.parse, keeping 64-bit integers exact: etcdctl prints cluster and member
 * IDs as bare numbers above 2^53, so long integers become strings first.
 * Returns undefined when the line is not a JSON object or array.
 */
export function parseJson(line: string): unknown {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return undefined;
  try {
    return JSON.parse(trimmed.replace(/([:\[,]\s*)(-?\d{16,})(?=\s*[,}\]])/g, '$1"$2"'));
  } catch {
    return undefined;
  }
}

/**
 * Removes cluster/member ID and raft term from every response header, at any
 * depth, and hides timings (`took`).
 */
export function normaliseJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normaliseJson);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value as Record<string, unknown>)) {
    // `watch -w json` prints the Go WatchResponse struct, whose header field is "Header".
    if ((name === 'header' || name === 'Header') && field !== null && typeof field === 'object') {
      out[name] = omit(field as Record<string, unknown>, headerFieldsDropped);
    } else if (name === 'took') {
      out[name] = '<duration>';
    } else {
      out[name] = normaliseJson(field);
    }
  }
  return out;
}

function omit(object: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(object)) if (!names.includes(name)) out[name] = field;
  return out;
}

/** `endpoint status -w json`: [{Endpoint, Status: {header, version, dbSize, leader, ...}}]. */
function normaliseStatusJson(value: unknown): unknown {
  if (!Array.isArray(value)) return normaliseJson(value);
  return value.map((entry: Record<string, unknown>) => {
    const status = entry.Status as Record<string, unknown> | undefined;
    if (status === undefined) return normaliseJson(entry);
    const header = status.header as Record<string, unknown> | undefined;
    const isLeader = header !== undefined && String(status.leader) === String(header.member_id);
    const kept = omit(status, [...statusFieldsDropped, 'leader']);
    return { ...entry, Status: { ...(normaliseJson(kept) as object), isLeader } };
  });
}

/** `endpoint status` simple format: one comma-separated row per endpoint. */
function normaliseStatusLine(line: string): unknown {
  const cells = line.split(', ');
  if (cells.length < statusColumns.length) return line;
  const row: Record<string, string> = {};
  statusColumns.forEach((column, index) => {
    if (statusColumnsKept.has(column)) row[column] = (cells[index] ?? '').trim();
  });
  return row;
}

/**
 * The Go client logs failed attempts as JSON ("retrying of unary invoker
 * failed", with the gRPC code and message in `error`); the timestamp, caller
 * and the target (which holds a random client ID) are dropped.
 */
function normaliseStderrLine(line: string): unknown {
  const parsed = parseJson(line);
  if (parsed === undefined || Array.isArray(parsed) || typeof parsed !== 'object' || parsed === null) {
    // `endpoint health` (printed on stderr by etcdctl 3.4): "<endpoint> is healthy: successfully committed proposal: took = 1.2ms"
    return line.replace(/took = \S+/, 'took = <duration>');
  }
  return omit(parsed as Record<string, unknown>, ['ts', 'caller', 'target']);
}

/**
 * A decoded gRPC response (ts-proto) as plain data: Buffers become UTF-8
 * strings, bigints become decimal strings, header identity fields are dropped.
 */
export function normaliseMessage(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(normaliseMessage);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value as Record<string, unknown>)) {
    if (field === undefined) continue;
    out[name] = name === 'header' && field !== null && typeof field === 'object'
      ? normaliseMessage(omit(field as Record<string, unknown>, headerFieldsDropped))
      : normaliseMessage(field);
  }
  return out;
}

/** The header revision of etcdctl's `-w json` output (read from etcd's output, to steer a test). */
export function headerRevision(jsonOutput: string): bigint {
  const parsed = parseJson(jsonOutput) as { header?: { revision?: number | string } } | undefined;
  const revision = parsed?.header?.revision;
  if (revision === undefined) throw new Error(`no header revision in ${jsonOutput}`);
  return BigInt(revision);
}
