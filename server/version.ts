// cairn's own version, and the etcd API version it speaks (reported by
// Maintenance.Status, which clients read to decide what the server supports).
export const cairnVersion = '0.1.0';
export const etcdApiVersion = '3.4.0';
