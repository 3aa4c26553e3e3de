import { expect } from 'chai';
import { status, type ServerUnaryCall, type ServiceError } from '@grpc/grpc-js';
import { TooManyRequestsError } from '../node/errors.js';
import { unaryWith, type Respond } from './unary.js';

type Answer = { error: Partial<ServiceError> | null; response: string | null | undefined };

/** Runs a unaryWith handler on a request; every answer the gRPC callback got, in order. */
function serve(handler: (request: string, respond: Respond<string>) => void): Answer[] {
  const answers: Answer[] = [];
  const method = unaryWith<string, string>((request, _call, respond) => handler(request, respond));
  method({ request: 'ping' } as unknown as ServerUnaryCall<string, string>, (error, response) => answers.push({ error: error as Partial<ServiceError> | null, response }));
  return answers;
}

describe('unaryWith: a handler that answers through a callback', () => {
  it('answers the first response or error, once, when the handler gives it', () => {
    let later: Respond<string> | undefined;
    const answers = serve((request, respond) => (later = respond));
    expect(answers, 'nothing before the handler answers').to.deep.equal([]);
    later?.(undefined, 'pong');
    later?.(new TooManyRequestsError());
    expect(answers).to.deep.equal([{ error: null, response: 'pong' }]);
  });

  it('maps an error through the error table, and a throw before answering is the request\'s error', () => {
    const refused = serve((request, respond) => respond(new TooManyRequestsError()));
    expect(refused.map(({ error }) => [error?.code, error?.details])).to.deep.equal([[status.RESOURCE_EXHAUSTED, 'etcdserver: too many requests']]);
    const thrown = serve(() => {
      throw new TooManyRequestsError();
    });
    expect(thrown.map(({ error }) => error?.code)).to.deep.equal([status.RESOURCE_EXHAUSTED]);
    const answeredThenThrew = serve((request, respond) => {
      respond(undefined, request);
      throw new TooManyRequestsError();
    });
    expect(answeredThenThrew).to.deep.equal([{ error: null, response: 'ping' }]);
  });
});
