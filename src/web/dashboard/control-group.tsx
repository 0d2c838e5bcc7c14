import { Link } from './router.tsx';
import type { DashboardJson } from './types.ts';

// The control group's increment, on the overview and the analytics page. Where there is none, it
// points to the settings page (not to an API call) to hold some hand-offs back.

export function ControlGroup({ experiment: e }: { experiment: DashboardJson['experiment'] }) {
  if (e.controlGroupPercent === 0) {
    return (
      <p className="muted" data-testid="control-group">
        No control group: every hand-off uses the automatic policy. <Link to="/dashboard/settings">Hold some back in Settings</Link> to measure what it adds.
      </p>
    );
  }
  if (!e.incrementalRecoveryRate) {
    return (
      <p className="muted" data-testid="control-group">
        {e.controlGroupPercent}% of hand-offs are held back; not enough have finished to compare yet. <Link to="/dashboard/settings">Settings</Link>
      </p>
    );
  }
  const i = e.incrementalRecoveryRate;
  return (
    <p data-testid="control-group">
      The automatic policy recovers {i.estimate} percentage points more than a fixed schedule (95% interval {i.low} to {i.high}){e.significant ? '' : ', not yet significant'}.{' '}
      {e.controlGroupPercent}% of hand-offs are held back (<Link to="/dashboard/settings">Settings</Link>).
    </p>
  );
}
