// GET /version, as etcd: the server's version and the cluster's, as JSON.
// cairn reports the etcd API version it speaks for both, which is what
// clients read it for (etcd3gw and Patroni pick the gateway's path prefix
// from "etcdserver"); `cairn --version` tells cairn's own.
import { etcdApiVersion } from '../version.js';
import { allowMethod, sendBody, type HttpRoute } from './respond.js';

export const versionRoute: HttpRoute = (request, response) => {
  if (!allowMethod(request, response, 'GET')) return;
  sendBody(response, 200, 'application/json', JSON.stringify({ etcdserver: etcdApiVersion, etcdcluster: etcdApiVersion }));
};
