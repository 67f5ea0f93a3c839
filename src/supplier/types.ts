/** Normalised shapes of the supplier's answers: what resolvers see, never the wire format. */

export type EntityType = 'SMM' | 'PRODUCT';

export type OrderStatus = 'PENDING' | 'IN_PROGRESS' | 'PROCESSING' | 'COMPLETED' | 'PARTIAL' | 'CANCELED' | 'UNKNOWN';

export type RefillStatus = 'PENDING' | 'IN_PROGRESS' | 'COMPLETED' | 'REJECTED' | 'UNKNOWN';

export type SmsOrderStatus = 'ACTIVE' | 'WAITING' | 'CODE_RECEIVED' | 'COMPLETED' | 'CANCELED' | 'EXPIRED' | 'UNKNOWN';

/** An exact decimal kept as its string, e.g. "0.50". */
export type Decimal = string;

export interface Money {
  amount: Decimal;
  currency: string;
}

export interface Category {
  name: string;
  subcategories: string[];
}

export interface Service {
  id: string;
  name: string;
  type: string;
  category: string;
  /** Null when the supplier gives none (many panels have no subcategories). */
  subcategory: string | null;
  rate: Decimal;
  min: number;
  max: number;
  refill: boolean;
  cancel: boolean;
  /** Null when the supplier's list does not say (panels without stock figures). */
  stock: number | null;
  entityType: EntityType;
  autoDelivery: boolean | null;
  /** Takes drip-feed `runs` and `interval`; false when the supplier does not say. */
  dripfeed: boolean;
}

export interface ServiceFilter {
  category?: string;
  subcategory?: string;
}

export interface Inventory {
  serviceId: string;
  stock: number;
  available: boolean;
  entityType: EntityType;
  autoDelivery: boolean;
}

export interface OrderState {
  id: string;
  status: OrderStatus;
  rawStatus: string;
  charge: Money | null;
  startCount: number | null;
  remains: number | null;
  autoDelivery: boolean | null;
  entityType: EntityType | null;
  accounts: string[];
}

export type Balance = Money;

export interface SmsCountry {
  code: string;
  name: string;
}

export interface SmsProject {
  id: string;
  name: string;
  price: Decimal;
  countryCode: string;
  countryName: string | null;
}

export interface SmsOrderState {
  id: string;
  phone: string | null;
  country: string | null;
  status: SmsOrderStatus;
  rawStatus: string;
  code: string | null;
  smsContent: string | null;
  charge: Money | null;
  expiresAt: string | null;
}

/** What `sms_code` says: the code once it came, or that it is still awaited. */
export interface SmsCodeState {
  id: string;
  status: SmsOrderStatus;
  rawStatus: string;
  code: string | null;
  smsContent: string | null;
}

/**
 * An order as the caller asked for it, in the gateway's names: the fields its service's type takes
 * (placement/order-terms.ts), absent ones left out. Plain data: the ledger keeps it and idempotency
 * fingerprints it.
 */
export interface NewOrder {
  serviceId: string;
  /** Absent for the types that count it themselves or have none (a Package, custom comments, mentions, subscriptions). */
  quantity?: number;
  link?: string;
  /** Drip-feed: the quantity is delivered `runs` times, `interval` minutes apart. */
  runs?: number;
  interval?: number;
  comments?: string[];
  usernames?: string[];
  hashtags?: string[];
  hashtag?: string;
  username?: string;
  answerNumber?: number;
  media?: string;
  groups?: string[];
  keywords?: string[];
  subscription?: SubscriptionTerms;
}

/** A Subscriptions order: each new post of `username` gets from `min` to `max` units. */
export interface SubscriptionTerms {
  username: string;
  min: number;
  max: number;
  /** How many new posts it covers; absent, the supplier decides, and the estimate counts one. */
  posts?: number;
  /** How many of the posts already there it covers too. */
  oldPosts?: number;
  /** Minutes after a post before delivery starts. */
  delay: number;
  /** The last day it runs, YYYY-MM-DD. */
  expiry?: string;
}

export interface NewSmsOrder {
  projectId: string;
  quantity: number;
  country?: string;
  phone?: string;
}

/** A refill of an order, as `refill_status` says of it; the order it refills is the ledger's to say. */
export interface RefillState {
  id: string;
  status: RefillStatus;
  rawStatus: string;
}
