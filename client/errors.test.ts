import { expect } from 'chai';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  classify,
  CompactedError,
  DeadlineExceededError,
  EmptyKeyError,
  InvalidAuthTokenError,
  AuthOldRevisionError,
  LeaseNotFoundError,
  NoLeaderError,
  RequestTimeoutError,
  TooManyRequestsError,
  UnavailableError,
  UnknownServerError,
  watchCancelError,
  WatchCanceledError,
  PermissionDeniedError,
  GrpcCode,
} from './errors.js';

function serviceError(code: status, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });
}

describe('client errors: classify', () => {
  it('chooses the class by gRPC code and etcd\'s exact message, keeping the gRPC error as cause', () => {
    const cause = serviceError(status.INVALID_ARGUMENT, 'etcdserver: key is not provided');
    const error = classify(cause);
    expect(error).to.be.instanceOf(EmptyKeyError);
    expect(error.name).to.equal('EmptyKeyError');
    expect(error.cause).to.equal(cause);
    expect(error.code).to.equal(status.INVALID_ARGUMENT);
    expect(classify(serviceError(status.NOT_FOUND, 'etcdserver: requested lease not found'))).to.be.instanceOf(LeaseNotFoundError);
    expect(classify(serviceError(status.UNAVAILABLE, 'etcdserver: no leader'))).to.be.instanceOf(NoLeaderError);
    expect(classify(serviceError(status.UNAUTHENTICATED, 'etcdserver: invalid auth token'))).to.be.instanceOf(InvalidAuthTokenError);
    expect(classify(serviceError(status.INVALID_ARGUMENT, 'etcdserver: revision of auth store is old'))).to.be.instanceOf(AuthOldRevisionError);
    expect(classify(serviceError(status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests'))).to.be.instanceOf(TooManyRequestsError);
    expect(classify(serviceError(status.UNAVAILABLE, 'etcdserver: request timed out, possibly due to previous leader failure')))
      .to.be.instanceOf(RequestTimeoutError);
    const compacted = classify(serviceError(status.OUT_OF_RANGE, 'etcdserver: mvcc: required revision has been compacted'));
    expect(compacted).to.be.instanceOf(CompactedError);
    expect((compacted as CompactedError).compactRevision).to.equal(undefined);
  });

  it('never matches by substring or by message alone', () => {
    expect(classify(serviceError(status.INVALID_ARGUMENT, 'etcdserver: key is not provided!'))).to.be.instanceOf(UnknownServerError);
    expect(classify(serviceError(status.UNKNOWN, 'etcdserver: requested lease not found'))).to.be.instanceOf(UnknownServerError);
  });

  it('falls back on the code for transport conditions', () => {
    const unavailable = classify(serviceError(status.UNAVAILABLE, 'No connection established'), 'no');
    expect(unavailable).to.be.instanceOf(UnavailableError);
    expect((unavailable as UnavailableError).applied).to.equal('no');
    expect((classify(serviceError(status.UNAVAILABLE, 'Connection dropped')) as UnavailableError).applied).to.equal('unknown');
    expect(classify(serviceError(status.DEADLINE_EXCEEDED, 'Deadline exceeded after 1.002s'))).to.be.instanceOf(DeadlineExceededError);
    expect(classify(new Error('boom'))).to.be.instanceOf(UnknownServerError);
  });

describe('client errors: watchCancelError', () => {
  it('reads a cancel reason in Go\'s status-error form through the same table, keeping the WatchCanceledError as cause', () => {
    const denied = watchCancelError('rpc error: code = PermissionDenied desc = etcdserver: permission denied');
    expect(denied).to.be.instanceOf(PermissionDeniedError);
    expect(denied.code).to.equal(GrpcCode.PermissionDenied);
    expect(denied.message).to.equal('etcdserver: permission denied');
    expect((denied.cause as WatchCanceledError).reason).to.equal('rpc error: code = PermissionDenied desc = etcdserver: permission denied');
    expect(watchCancelError('rpc error: code = Unauthenticated desc = etcdserver: invalid auth token')).to.be.instanceOf(InvalidAuthTokenError);
  });

  it('leaves anything else a WatchCanceledError: other text, a known message under another code, an unknown code name', () => {
    for (const reason of [
      '',
      'etcdserver: permission denied',
      'rpc error: code = Unknown desc = etcdserver: permission denied',
      'rpc error: code = Denied desc = etcdserver: permission denied',
      ' rpc error: code = PermissionDenied desc = etcdserver: permission denied',
    ]) {
      const error = watchCancelError(reason);
      expect(error, reason).to.be.instanceOf(WatchCanceledError);
      expect((error as WatchCanceledError).reason).to.equal(reason);
    }
  });
});
});
