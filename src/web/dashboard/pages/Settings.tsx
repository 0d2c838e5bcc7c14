import type { Mode } from '../api.ts';
import { ApiKeys } from './settings/ApiKeys.tsx';
import { AutoRescue } from './settings/AutoRescue.tsx';
import { ControlGroup } from './settings/ControlGroup.tsx';
import { Dunning } from './settings/Dunning.tsx';
import { Gateways } from './settings/Gateways.tsx';

// The account's settings of the chosen mode, Auto Rescue first; each section loads and saves on its own.

const SECTIONS = [
  ['auto-rescue', 'Auto Rescue'],
  ['dunning', 'Dunning emails'],
  ['gateways', 'Gateways'],
  ['api-keys', 'API keys'],
  ['control-group', 'Control group'],
] as const;

export function Settings({ mode }: { mode: Mode }) {
  return (
    <>
      <h1>Settings</h1>
      <p className="muted">These settings apply to {mode} mode; switch the mode at the top for the other.</p>
      <nav className="settings-nav" aria-label="Settings sections">
        {SECTIONS.map(([id, label]) => (
          <a key={id} href={`#${id}`}>
            {label}
          </a>
        ))}
      </nav>
      <AutoRescue />
      <Dunning />
      <Gateways mode={mode} />
      <ApiKeys mode={mode} />
      <ControlGroup />
    </>
  );
}
