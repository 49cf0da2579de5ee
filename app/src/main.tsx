import { render } from 'preact';
import { App } from './app';
import './styles.css';

const mount = () => render(<App />, document.getElementById('app')!);

// In `npm run dev` outside the Tauri shell, a stand-in backend (never in the build).
if (import.meta.env.DEV && !('__TAURI_INTERNALS__' in window)) {
  void import('./dev/mock').then(mount);
} else {
  mount();
}
