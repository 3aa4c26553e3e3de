// Operating errors of the proposal pipeline.

export class TooManyRequestsError extends Error {
  override readonly name = 'TooManyRequestsError';
  constructor() {
    super('too many requests');
  }
}

export class ServerStoppedError extends Error {
  override readonly name = 'ServerStoppedError';
  constructor() {
    super('server stopped');
  }
}

export class RequestTooLargeError extends Error {
  override readonly name = 'RequestTooLargeError';
  constructor() {
    super('request is too large');
  }
}
