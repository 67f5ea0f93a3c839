/** The shape of the seeded catalogue: which categories exist and what their services cost. */

type Size = 'bulk' | 'normal' | 'few';

interface SmmSubcategory {
  name: string;
  /** Rate per 1,000 units, in ten-thousandths of a dollar. */
  rate: [number, number];
  size: Size;
}

export interface SmmCategory {
  category: string;
  label: string;
  subcategories: SmmSubcategory[];
}

interface ProductSubcategory {
  name: string;
  /** Unit price, in ten-thousandths of a dollar. */
  rate: [number, number];
  /** Where credentials live: an e-mail domain, or none for a bare user name. */
  mailDomain?: string;
}

export interface ProductCategory {
  category: string;
  /** The panel's own label on each service, which need not equal the category name. */
  serviceCategory: string;
  subcategories: ProductSubcategory[];
}

const sub = (name: string, low: number, high: number, size: Size = 'normal'): SmmSubcategory => ({
  name,
  rate: [low, high],
  size,
});

export const SMM_CATEGORIES: SmmCategory[] = [
  {
    category: 'Instagram',
    label: 'Instagram',
    subcategories: [
      sub('Followers', 4000, 60000),
      sub('Likes', 1000, 30000),
      sub('Views', 50, 5000, 'bulk'),
      sub('Comments', 50000, 400000, 'few'),
      sub('Story Views', 500, 10000, 'bulk'),
    ],
  },
  {
    category: 'TikTok',
    label: 'TikTok',
    subcategories: [sub('Followers', 5000, 70000), sub('Likes', 1000, 25000), sub('Views', 30, 3000, 'bulk'), sub('Shares', 2000, 30000)],
  },
  {
    category: 'YouTube',
    label: 'YouTube',
    subcategories: [
      sub('Subscribers', 20000, 300000),
      sub('Views', 5000, 40000, 'bulk'),
      sub('Likes', 3000, 40000),
      sub('Comments', 60000, 500000, 'few'),
      sub('Watch Time', 50000, 600000, 'few'),
    ],
  },
  {
    category: 'Telegram',
    label: 'Telegram',
    subcategories: [sub('Members', 8000, 80000), sub('Post Views', 100, 3000, 'bulk'), sub('Reactions', 1000, 20000)],
  },
  {
    category: 'X (Twitter)',
    label: 'X',
    subcategories: [
      sub('Followers', 10000, 100000),
      sub('Likes', 3000, 40000),
      sub('Retweets', 10000, 100000),
      sub('Views', 100, 5000, 'bulk'),
    ],
  },
  {
    category: 'Facebook',
    label: 'Facebook',
    subcategories: [
      sub('Page Likes', 10000, 120000),
      sub('Followers', 8000, 90000),
      sub('Post Likes', 3000, 40000),
      sub('Views', 200, 8000, 'bulk'),
    ],
  },
  {
    category: 'Spotify',
    label: 'Spotify',
    subcategories: [
      sub('Plays', 3000, 30000, 'bulk'),
      sub('Followers', 5000, 50000),
      sub('Monthly Listeners', 10000, 100000),
      sub('Saves', 5000, 50000),
    ],
  },
];

export const PRODUCT_CATEGORIES: ProductCategory[] = [
  {
    category: 'Email Accounts',
    serviceCategory: 'Accounts-Email',
    subcategories: [
      { name: 'Gmail', rate: [3000, 30000], mailDomain: 'gmail.com' },
      { name: 'Outlook', rate: [500, 8000], mailDomain: 'outlook.com' },
      { name: 'Yahoo', rate: [1000, 12000], mailDomain: 'yahoo.com' },
    ],
  },
  {
    category: 'Social Accounts',
    serviceCategory: 'Social Accounts',
    subcategories: [
      { name: 'Instagram', rate: [5000, 80000] },
      { name: 'Facebook', rate: [10000, 150000] },
      { name: 'TikTok', rate: [4000, 60000] },
      { name: 'X', rate: [5000, 50000] },
    ],
  },
];

/** A service with fixed terms, listed after the seeded ones by the flavours that carry it. */
export interface FixedService {
  name: string;
  category: string;
  subcategory: string;
  /** Rate per 1,000 units, in ten-thousandths of a dollar. */
  rate: number;
  min: number;
  max: number;
  refill: boolean;
  cancel: boolean;
  /** Default "Default": the `add` parameters it takes (service-types.ts). */
  type?: string;
  /** Takes drip-feed `runs` and `interval`. */
  dripfeed?: boolean;
}

/** Priced over 1,000 per 1,000 units, so that rates and charges of four digits and more occur. */
export const PREMIUM_PACKAGE: FixedService = {
  name: 'YouTube Subscribers [Premium Package] [Monetization Ready]',
  category: 'YouTube',
  subcategory: 'Subscribers',
  rate: 12_500_000,
  min: 1000,
  max: 2000,
  refill: true,
  cancel: false,
};

const typed = (type: string, name: string, category: string, subcategory: string, terms: Partial<FixedService> = {}): FixedService => ({
  name,
  category,
  subcategory,
  type,
  rate: 20000,
  min: 10,
  max: 1000,
  refill: false,
  cancel: false,
  ...terms,
});

/**
 * One service of each `add` type of the API v2 family, and a drip-feed one, whatever the seed: listed
 * last when the sandbox speaks the whole family. A Package's rate is its price; it has no quantity.
 */
export const TYPED_SERVICES: readonly FixedService[] = [
  typed('Default', 'Instagram Likes [Drip-feed] [Refill 30D]', 'Instagram', 'Likes', {
    rate: 5000,
    max: 10000,
    refill: true,
    cancel: true,
    dripfeed: true,
  }),
  typed('Package', 'Instagram Starter Package [1K Followers + 1K Likes]', 'Instagram', 'Followers', { rate: 49900, min: 1, max: 1 }),
  typed('Custom Comments', 'Instagram Comments [Custom] [Real]', 'Instagram', 'Comments', { rate: 150000, min: 5, max: 500, cancel: true }),
  typed('Mentions', 'Instagram Mentions [Custom List]', 'Instagram', 'Comments', { rate: 80000 }),
  typed('Mentions with Hashtags', 'Instagram Mentions [With Hashtags]', 'Instagram', 'Comments', { rate: 90000 }),
  typed('Mentions Hashtag', 'Instagram Mentions [Hashtag Users]', 'Instagram', 'Comments', { rate: 30000, min: 100, max: 10000 }),
  typed('Mentions User Followers', 'Instagram Mentions [User Followers]', 'Instagram', 'Comments', { rate: 30000, min: 100, max: 10000 }),
  typed('Mentions Media Likers', 'Instagram Mentions [Media Likers]', 'Instagram', 'Comments', { rate: 30000, min: 100, max: 10000 }),
  typed('Comment Likes', 'Instagram Comment Likes [Refill 30D]', 'Instagram', 'Likes', { rate: 40000, min: 20, max: 5000, refill: true }),
  typed('Poll', 'Telegram Poll Votes [Fast]', 'Telegram', 'Reactions', { rate: 15000, min: 50, max: 20000, cancel: true }),
  typed('Invites from Groups', 'Telegram Members [Invites from Groups]', 'Telegram', 'Members', { rate: 60000, min: 100, max: 5000 }),
  typed('Subscriptions', 'Instagram Auto Likes [Subscription]', 'Instagram', 'Likes', { rate: 8000, min: 50, max: 5000 }),
];

export const SMM_QUALIFIERS = [
  'Real',
  'HQ',
  'Cheapest',
  'Instant Start',
  'Refill 30D',
  'Non Drop',
  'Mixed Quality',
  'Targeted USA',
  'Targeted Europe',
  'Premium',
  'Fast',
  'Slow Drip',
  'Lifetime Refill',
  'Organic',
];

export const PRODUCT_VARIANTS = [
  'USA',
  'Europe',
  'Fresh PVA',
  'Aged 1Y',
  'Aged 3Y',
  'With Recovery Email',
  'Phone Verified',
  'Bulk',
  'Premium',
  '2FA Enabled',
];

export const QUANTITY_LIMITS: Record<Size, { min: number[]; max: number[] }> = {
  bulk: { min: [100, 250, 500, 1000], max: [100000, 500000, 1000000] },
  normal: { min: [10, 20, 50, 100], max: [5000, 10000, 20000, 50000, 100000] },
  few: { min: [5, 10, 20], max: [500, 1000, 5000] },
};
