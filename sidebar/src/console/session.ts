import { ref } from 'vue';
import { api, type AuthMe } from '../shared/api.ts';

/** Who is signed in to the console; in demo mode it signs in as a demo admin by itself. */
export const admin = ref<string | null>(null);
export const demoMode = ref(false);

export async function loadSession(): Promise<void> {
  const me = await api<AuthMe>('/auth/me');
  demoMode.value = me.demoMode;
  admin.value = me.admin;
  // The demo opens signed in, unless the operator just signed out (to try the sign-in form).
  if (!me.admin && me.demoMode && sessionStorage.getItem('scrm.console.signedOut') !== '1') {
    const demo = await api<{ userId: string }>('/auth/demo', { method: 'POST', body: { as: 'admin' } });
    admin.value = demo.userId;
  }
}

export async function signInWithToken(token: string): Promise<void> {
  await api('/auth/token', { method: 'POST', body: { token } });
  sessionStorage.removeItem('scrm.console.signedOut');
  admin.value = 'token';
}

export async function signOut(): Promise<void> {
  await api('/auth/logout?as=admin', { method: 'POST' });
  sessionStorage.setItem('scrm.console.signedOut', '1');
  admin.value = null;
}
