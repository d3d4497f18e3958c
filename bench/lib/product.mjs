// The value the cache benchmarks store: a catalogue product of about 1 KB, shaped like what a
// service would cache from its database (strings, numbers, a Date, an array, nested objects).
// Deterministic, so every run and every candidate stores the same bytes.

const WORDS = [
  'steel',
  'oak',
  'compact',
  'wireless',
  'ergonomic',
  'recycled',
  'waterproof',
  'modular',
  'foldable',
  'premium',
  'classic',
  'outdoor',
  'kitchen',
  'office',
  'travel',
  'studio',
];
const COLORS = ['black', 'white', 'graphite', 'sand', 'forest', 'navy', 'red', 'silver'];

const word = (i, salt) => WORDS[(i * 7 + salt * 13) % WORDS.length];

/** Product number `i` (0-based). */
export function makeProduct(i) {
  const created = Date.UTC(2025, i % 12, (i % 28) + 1, 8, 30);
  const description = Array.from({ length: 56 }, (_, w) => word(i, w)).join(' ');
  return {
    id: `p-${String(i).padStart(6, '0')}`,
    sku: `SKU-${(i * 7919) % 1_000_000}`,
    name: `${word(i, 1)} ${word(i, 2)} ${word(i, 3)} #${i}`,
    description: `${description}.`,
    price: { amount: 1999 + (i % 500) * 10, currency: 'EUR' },
    inStock: i % 5 !== 0,
    stock: 3 + (i % 250),
    rating: 3 + (i % 20) / 10,
    createdAt: new Date(created),
    updatedAt: new Date(created + 86_400_000 * (i % 90)),
    tags: [word(i, 4), word(i, 5), word(i, 6), word(i, 7), 'sale'],
    attributes: {
      color: COLORS[i % COLORS.length],
      material: word(i, 8),
      weightGrams: 250 + (i % 1000),
      dimensionsMm: { width: 100 + (i % 50), height: 40 + (i % 30), depth: 20 + (i % 10) },
      warrantyMonths: 24,
    },
    categoryIds: [10 + (i % 7), 100 + (i % 31)],
    images: [`https://cdn.example.com/p/${i}/front.webp`, `https://cdn.example.com/p/${i}/side.webp`],
  };
}
