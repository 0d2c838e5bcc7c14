import { ApiError } from './api.ts';

// A Rescue built before the outbox answers 404 `route_not_found` to /v2/emails: the pages that read
// emails say so instead of failing. An unknown email id is a 404 `resource_missing` and stays an error.

export const outboxMissing = (error: unknown) => error instanceof ApiError && error.status === 404 && error.code !== 'resource_missing';

export function OutboxUnavailable() {
  return (
    <p className="muted" role="status" data-testid="outbox-unavailable">
      The email outbox is not available on this Rescue.
    </p>
  );
}
