/**
 * Membership changes, one server at a time (§4.1 of Ongaro's thesis; see docs/raft.md for why not
 * joint consensus). A ConfChange travels as the data of an EntryType.ConfChange entry and takes
 * effect when the application applies it and calls RawNode.applyConfChange.
 */
export const ConfChangeType = {
  AddNode: 'add-node',
  AddLearner: 'add-learner',
  RemoveNode: 'remove-node',
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: number;
  /** Opaque to the core: the application's description of the member (its peer URLs…). */
  readonly context?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify({ type: cc.type, nodeId: cc.nodeId, context: cc.context }));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const v = JSON.parse(decoder.decode(data)) as ConfChange;
  return v.context === undefined ? { type: v.type, nodeId: v.nodeId } : { type: v.type, nodeId: v.nodeId, context: v.context };
}
