// etcdserverpb.KV: reads are served from the applied state (a single node's
// applied state includes every acknowledged write, so reads are
// linearizable); writes go through the log.
import type { KVServer, PutResponse, DeleteRangeResponse, TxnResponse, CompactionResponse } from '../../proto/gen/etcdserverpb/rpc.js';
import type { Proposal } from '../node/single-node.js';
import { fillHeader, type ServiceContext } from './context.js';
import { unary } from './unary.js';
import { checkDelete, checkPut, checkRange, checkTxn } from './validate.js';

export function kvService(context: ServiceContext): KVServer {
  const propose = async <T extends { header?: unknown }>(proposal: Proposal): Promise<T> => {
    return (await context.node.propose(proposal)) as unknown as T;
  };
  return {
    range: unary((request) => {
      checkRange(request);
      const response = context.applier.range(request);
      response.header = fillHeader(context, response.header);
      return response;
    }),
    put: unary(async (request) => {
      checkPut(request);
      const response = await propose<PutResponse>({ put: request });
      response.header = fillHeader(context, response.header);
      return response;
    }),
    deleteRange: unary(async (request) => {
      checkDelete(request);
      const response = await propose<DeleteRangeResponse>({ deleteRange: request });
      response.header = fillHeader(context, response.header);
      return response;
    }),
    txn: unary(async (request) => {
      checkTxn(request, context.config.maxTxnOps);
      const response = await propose<TxnResponse>({ txn: request });
      response.header = fillHeader(context, response.header);
      return response;
    }),
    compact: unary(async (request) => {
      const response = await propose<CompactionResponse>({ compaction: request });
      response.header = fillHeader(context, response.header);
      return response;
    }),
  };
}
