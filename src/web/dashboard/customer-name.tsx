import { useEffect, useState } from 'react';
import { get } from './api.ts';
import { Link } from './router.tsx';
import type { Customer } from './types.ts';

// Pages name a payment's customer by name or email, never by a bare cus_ id. Each customer is read
// once per page load (GET /v2/customers/:id) and shared by every row that shows it; ids are unique
// across modes and accounts, so the cache needs no key beyond the id.

const cache = new Map<string, Promise<Customer | null>>();

function customer(id: string): Promise<Customer | null> {
  let p = cache.get(id);
  if (!p) {
    p = get<Customer>(`/v2/customers/${encodeURIComponent(id)}`).catch(() => null);
    cache.set(id, p);
  }
  return p;
}

export const customerLabel = (c: Pick<Customer, 'name' | 'email'> | null | undefined): string | null => c?.name || c?.email || null;

export const customerPath = (id: string) => `/dashboard/customers/${encodeURIComponent(id)}`;

/** A link to the customer's page, labelled with their name (or email) once known. */
export function CustomerName({ id }: { id: string | null }) {
  const [label, setLabel] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    if (id) void customer(id).then((c) => live && setLabel(customerLabel(c)));
    return () => {
      live = false;
    };
  }, [id]);
  if (!id) return <span className="muted">—</span>;
  return (
    <Link to={customerPath(id)} className="customer-name">
      {label ?? 'Customer'}
    </Link>
  );
}
