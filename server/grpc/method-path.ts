// A gRPC method path as its two names, which metrics label and spans are named by.

/** "/etcdserverpb.KV/Range" → service "etcdserverpb.KV", method "Range". */
export function methodOfPath(path: string): { service: string; method: string } {
  const [, service = '', method = ''] = path.split('/');
  return { service, method };
}
