import { LakesModel, RequestFunction } from '../src/model';
import { CollabRequestError } from '../src/request';
import { lakes } from './fixtures';

type Route = (endPoint: string) => unknown;

/** A request function answering from `route`; throws what `route` throws. */
function fakeRequest(route: Route): jest.Mock & RequestFunction {
  return jest.fn(async (endPoint: string) => route(endPoint)) as any;
}

const healthy: Route = endPoint => {
  if (endPoint === 'version') {
    return { version: '0.1.0' };
  }
  if (endPoint === 'lakes') {
    return { lakes };
  }
  if (endPoint === 'lakes/st-mary/requests') {
    return {
      requests: [
        {
          id: 'r1',
          scientist: 'ada@lab.org',
          table: 'patients',
          model: 'logistic_regression',
          features: ['radius'],
          label: 'malignant',
          rounds: 30,
          epsilon: 1,
          status: 'pending'
        }
      ]
    };
  }
  throw new Error(`unexpected ${endPoint}`);
};

const models: LakesModel[] = [];
function makeModel(options: LakesModel.IOptions): LakesModel {
  const model = new LakesModel({ interval: 1000, maxInterval: 8000, ...options });
  models.push(model);
  return model;
}

afterEach(() => {
  for (const model of models.splice(0)) {
    model.dispose();
  }
  jest.useRealTimers();
});

describe('LakesModel.refresh', () => {
  it('loads lakes and the requests of online lakes the user owns', async () => {
    const request = fakeRequest(healthy);
    const model = makeModel({ request });
    const changed = jest.fn();
    model.changed.connect(changed);

    await model.refresh();

    expect(model.lakes.map(l => l.name)).toEqual(['st-mary', 'st-jude']);
    expect(model.requests.get('st-mary')?.requests.map(r => r.id)).toEqual(['r1']);
    expect(model.requests.has('st-jude')).toBe(false);
    expect(model.error).toBeNull();
    expect(model.versionWarning).toBeNull();
    expect(model.updated).toBeInstanceOf(Date);
    expect(request.mock.calls.map(c => c[0])).toEqual([
      'version',
      'lakes',
      'lakes/st-mary/requests'
    ]);
    expect(changed).toHaveBeenCalled();
  });

  it('warns when the server extension has another version', async () => {
    const model = makeModel({
      request: fakeRequest(e => (e === 'version' ? { version: '0.2.0' } : healthy(e)))
    });
    await model.refresh();
    expect(model.serverVersion).toBe('0.2.0');
    expect(model.versionWarning).toContain('0.2.0');
    expect(model.versionWarning).toContain('0.1.0');
  });

  it('keeps the server message when the lakes cannot be read', async () => {
    const model = makeModel({
      request: fakeRequest(e => {
        if (e === 'lakes') {
          throw new CollabRequestError('the registry is locked', {
            status: 500,
            errorType: 'LakeError',
            endPoint: e
          });
        }
        return healthy(e);
      })
    });
    await expect(model.refresh()).resolves.toBeUndefined();
    expect(model.error).toBe('the registry is locked');
  });

  it('hints at the server extension when its routes are missing', async () => {
    const model = makeModel({
      request: fakeRequest(e => {
        throw new CollabRequestError(
          'The server answered 404 Not Found for collab/lakes.',
          {
            status: 404,
            errorType: 'HTTPError',
            endPoint: e
          }
        );
      })
    });
    await model.refresh();
    expect(model.error).toContain('jupyter server extension list');
  });

  it("reports one lake's request failure beside the others", async () => {
    const model = makeModel({
      request: fakeRequest(e => {
        if (e.endsWith('/requests')) {
          throw new Error('not an owner any more');
        }
        return healthy(e);
      })
    });
    await model.refresh();
    expect(model.error).toBeNull();
    expect(model.requests.get('st-mary')).toEqual({
      requests: [],
      error: 'not an owner any more'
    });
  });

  it('shares one request between overlapping refreshes', async () => {
    const request = fakeRequest(healthy);
    const model = makeModel({ request });
    await Promise.all([model.refresh(), model.refresh()]);
    expect(request.mock.calls.filter(c => c[0] === 'lakes')).toHaveLength(1);
  });
});

describe('LakesModel polling', () => {
  async function advance(ms: number): Promise<void> {
    await jest.advanceTimersByTimeAsync(ms);
  }

  it('does not poll until visible, then polls every interval', async () => {
    jest.useFakeTimers();
    const request = fakeRequest(healthy);
    const model = makeModel({ request });
    const lakeCalls = () => request.mock.calls.filter(c => c[0] === 'lakes').length;

    await advance(5000);
    expect(lakeCalls()).toBe(0);

    model.setVisible(true);
    await advance(0);
    expect(lakeCalls()).toBe(1);
    await advance(1000);
    expect(lakeCalls()).toBe(2);
    await advance(1000);
    expect(lakeCalls()).toBe(3);
  });

  it('pauses while hidden', async () => {
    jest.useFakeTimers();
    const request = fakeRequest(healthy);
    const model = makeModel({ request });
    const lakeCalls = () => request.mock.calls.filter(c => c[0] === 'lakes').length;

    model.setVisible(true);
    await advance(0);
    model.setVisible(false);
    await advance(10_000);
    expect(lakeCalls()).toBe(1);
    expect(model.polling).toBe(false);

    // Shown again after the interval: fetch at once.
    model.setVisible(true);
    await advance(0);
    expect(lakeCalls()).toBe(2);
  });

  it('backs off after failures and recovers after a success', async () => {
    jest.useFakeTimers();
    let down = true;
    const request = fakeRequest(e => {
      if (down && e === 'lakes') {
        throw new Error('down');
      }
      return healthy(e);
    });
    const model = makeModel({ request });

    model.setVisible(true);
    await advance(0);
    expect(model.delay).toBe(2000);
    await advance(2000);
    expect(model.delay).toBe(4000);
    await advance(4000);
    expect(model.delay).toBe(8000);
    await advance(8000);
    expect(model.delay).toBe(8000); // capped at maxInterval

    down = false;
    await advance(8000);
    expect(model.error).toBeNull();
    expect(model.delay).toBe(1000);
  });

  it('stops polling when disposed', async () => {
    jest.useFakeTimers();
    const request = fakeRequest(healthy);
    const model = makeModel({ request });
    model.setVisible(true);
    await advance(0);
    const calls = request.mock.calls.length;
    model.dispose();
    await advance(10_000);
    expect(request.mock.calls.length).toBe(calls);
  });
});
