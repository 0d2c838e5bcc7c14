// An event as the API returns it and as webhook endpoints receive it: one shape for both, so a
// merchant can replay a delivery's body against GET /v2/events/:id.

export interface StoredEvent {
  id: string;
  type: string;
  api_version: string;
  created_at: Date;
  livemode: boolean;
  data: Record<string, unknown>;
}

export function eventJson(e: StoredEvent) {
  return { id: e.id, object: 'event' as const, type: e.type, api_version: e.api_version, created_at: e.created_at.toISOString().replace(/\.\d{3}Z$/, 'Z'), livemode: e.livemode, data: e.data };
}
