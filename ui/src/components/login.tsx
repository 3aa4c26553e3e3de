// Logging in when the member has auth on: a user name and password sent once
// to Authenticate; the token it answers is all the page keeps (session storage
// of this tab). What the user may read and write is the member's to decide.
import { useState } from 'preact/hooks';
import { errorText } from '../errors.js';
import { logIn } from '../gateway.js';

export function Login({ reason, onDone }: { reason: string; onDone: () => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (): Promise<void> => {
    setBusy(true);
    try {
      await logIn(name, password);
      setPassword('');
      onDone();
    } catch (failure) {
      setError(errorText(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="login" onSubmit={(event) => { event.preventDefault(); void submit(); }}>
      <h1>Log in</h1>
      <p class="hint">This cluster has authentication on ({reason}).</p>
      <label for="login-name">User</label>
      <input id="login-name" autocomplete="username" value={name} onInput={(event) => setName((event.target as HTMLInputElement).value)} required />
      <label for="login-password">Password</label>
      <input id="login-password" type="password" autocomplete="current-password" value={password} onInput={(event) => setPassword((event.target as HTMLInputElement).value)} required />
      <button type="submit" class="primary" disabled={busy}>Log in</button>
      {error !== undefined && <p class="error" role="alert">{error}</p>}
    </form>
  );
}
