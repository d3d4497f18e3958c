/** Appends `item` to the list `groups` holds for `key`, creating it (grouping keys per owner). */
export function appendTo<K, V>(groups: Map<K, V[]>, key: K, item: V): void {
  const list = groups.get(key);
  if (list === undefined) groups.set(key, [item]);
  else list.push(item);
}
