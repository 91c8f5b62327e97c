import { useEffect, useRef, useState } from 'preact/hooks';
import { SignInOptions } from '../graphql/operations.ts';
import { send } from '../client/transport.ts';
import { signIn } from '../state/sign-in.ts';
import { signInMessage, view } from '../state/store.ts';

/** Name and password (and single sign-on, when the gateway offers it). */
export function SignIn() {
  const shown = view.value === 'signin';
  const [busy, setBusy] = useState(false);
  const [sso, setSso] = useState<{ url: string; label: string } | null>(null);
  const name = useRef<HTMLInputElement>(null);
  const password = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (!shown) return;
    name.current?.focus();
    send(SignInOptions, {}).then(
      ({ signInOptions: o }) => setSso(o.singleSignOnUrl ? { url: o.singleSignOnUrl, label: o.singleSignOnLabel ?? 'single sign-on' } : null),
      () => undefined, // passwords still work
    );
  }, [shown]);
  return (
    <section id="signin" class="signin" hidden={!shown}>
      <form
        id="signin-form"
        class="card"
        autocomplete="on"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          const ok = await signIn(name.current!.value.trim(), password.current!.value);
          if (ok) password.current!.value = '';
          setBusy(false);
        }}
      >
        <h1>Sign in</h1>
        <p class="muted small">
          With your name and password. The first start of the gateway prints the admin's; admins add people under "People &amp; clients" or with{' '}
          <code>npm run user -- add</code>.
        </p>
        <label>
          Name <input ref={name} name="name" autocomplete="username" required />
        </label>
        <label>
          Password <input ref={password} name="password" type="password" autocomplete="current-password" required />
        </label>
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
        <button type="button" id="sso" hidden={!sso} onClick={() => sso && location.assign(sso.url)}>
          Sign in with {sso?.label ?? 'single sign-on'}
        </button>
        <p id="signin-error" class="error-text" role="alert">
          {signInMessage.value}
        </p>
      </form>
    </section>
  );
}
