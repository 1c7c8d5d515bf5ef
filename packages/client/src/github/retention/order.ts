/**
 * Orders deletions so that parents go before children: a topological order of "parent before
 * dependent" over the versions to delete. Cycles (possible only through tags, e.g. an index at the
 * fallback tag of a manifest it lists) are strongly connected components: each is placed as a
 * whole, once every parent outside it is placed. Inside a component, members follow
 * `contentParentsOf` (an index before what it lists: those edges cannot form a cycle, since a
 * manifest's digest covers its children), lowest key first. So while a run deletes, no manifest
 * still present lists one already deleted, and a push that reuses a present manifest gets all of
 * it. The order goes level by level (all items whose parents are placed, lowest key first), so it
 * is deterministic.
 *
 * @param items - the versions to delete, any order.
 * @param parentsOf - the items a given item must follow (others are ignored).
 * @param keyOf - a number that orders ties (the version id).
 * @param contentParentsOf - the subset of `parentsOf` that lists the item in its content. If
 *   omitted, none: a cycle's members go by ascending key.
 * @internal
 */
export function deletionOrder(
  items: readonly string[],
  parentsOf: (item: string) => Iterable<string>,
  keyOf: (item: string) => number,
  contentParentsOf: (item: string) => Iterable<string> = () => [],
): string[] {
  const members = new Set(items);
  const keys = new Map([...members].map((item) => [item, keyOf(item)]));
  const byKey = (a: string, b: string): number => (keys.get(a) as number) - (keys.get(b) as number);
  const sorted = [...members].sort(byKey);
  const followers = new Map<string, string[]>();
  for (const item of sorted) {
    for (const parent of new Set(parentsOf(item))) {
      if (parent === item || !members.has(parent)) continue;
      const list = followers.get(parent);
      if (list === undefined) followers.set(parent, [item]);
      else list.push(item);
    }
  }

  // Tarjan's strongly connected components, iteratively (deep chains must not overflow the stack).
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const componentOf = new Map<string, number>();
  const components: string[][] = [];
  let counter = 0;
  const open = (item: string): void => {
    index.set(item, counter);
    low.set(item, counter);
    counter += 1;
    stack.push(item);
    onStack.add(item);
  };
  for (const root of sorted) {
    if (index.has(root)) continue;
    open(root);
    const work: { item: string; next: number }[] = [{ item: root, next: 0 }];
    while (work.length > 0) {
      const frame = work[work.length - 1] as { item: string; next: number };
      const edges = followers.get(frame.item) ?? [];
      if (frame.next < edges.length) {
        const target = edges[frame.next] as string;
        frame.next += 1;
        if (!index.has(target)) {
          open(target);
          work.push({ item: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.item, Math.min(low.get(frame.item) as number, index.get(target) as number));
        }
        continue;
      }
      work.pop();
      const caller = work[work.length - 1];
      if (caller !== undefined) {
        low.set(caller.item, Math.min(low.get(caller.item) as number, low.get(frame.item) as number));
      }
      if (low.get(frame.item) === index.get(frame.item)) {
        const component: string[] = [];
        for (;;) {
          const member = stack.pop() as string;
          onStack.delete(member);
          componentOf.set(member, components.length);
          component.push(member);
          if (member === frame.item) break;
        }
        components.push(orderInside(component.sort(byKey), contentParentsOf));
      }
    }
  }

  // Kahn's algorithm over the components.
  const indegree = components.map(() => 0);
  const next = components.map(() => [] as number[]);
  for (const [parent, list] of followers) {
    const from = componentOf.get(parent) as number;
    for (const child of list) {
      const to = componentOf.get(child) as number;
      if (from === to) continue;
      next[from]?.push(to);
      indegree[to] = (indegree[to] ?? 0) + 1;
    }
  }
  // Level by level: everything whose parents are all placed, lowest key first.
  const firstKey = components.map((component) => keys.get(component[0] as string) as number);
  const byFirstKey = (a: number, b: number): number => (firstKey[a] as number) - (firstKey[b] as number);
  let ready = components.map((_, component) => component).filter((component) => indegree[component] === 0);
  ready.sort(byFirstKey);
  const order: string[] = [];
  while (ready.length > 0) {
    const following: number[] = [];
    for (const component of ready) {
      order.push(...(components[component] as string[]));
      for (const to of next[component] ?? []) {
        indegree[to] = (indegree[to] ?? 0) - 1;
        if (indegree[to] === 0) following.push(to);
      }
    }
    ready = following.sort(byFirstKey);
  }
  return order;
}

/**
 * A cycle's members (sorted by key) in a topological order of their content edges, lowest key
 * first among the ready; members left over (content edges that loop, which real manifests cannot)
 * keep their key order at the end.
 */
function orderInside(members: string[], contentParentsOf: (item: string) => Iterable<string>): string[] {
  if (members.length < 2) return members;
  const inside = new Set(members);
  const waiting = new Map<string, Set<string>>();
  for (const member of members) {
    const parents = new Set([...contentParentsOf(member)].filter((p) => p !== member && inside.has(p)));
    waiting.set(member, parents);
  }
  const order: string[] = [];
  const placed = new Set<string>();
  for (;;) {
    const next = members.find(
      (member) => !placed.has(member) && [...(waiting.get(member) ?? [])].every((p) => placed.has(p)),
    );
    if (next === undefined) break;
    order.push(next);
    placed.add(next);
  }
  for (const member of members) if (!placed.has(member)) order.push(member);
  return order;
}
