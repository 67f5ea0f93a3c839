/** Normalised shapes of the supplier's answers: what resolvers see, never the wire format. */

export type EntityType = 'SMM' | 'PRODUCT';

export type OrderStatus = 'PENDING' | 'IN_PROGRESS' | 'PROCESSING' | 'COMPLETED' | 'PARTIAL' | 'CANCELED' | 'UNKNOWN';

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

export interface NewOrder {
  serviceId: string;
  quantity: number;
  link?: string;
}

export interface NewSmsOrder {
  projectId: string;
  quantity: number;
  country?: string;
  phone?: string;
}
