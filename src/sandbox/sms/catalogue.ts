import { decimal, type Decimal } from '../world/money.ts';
import { hex, mulberry32, randomInt, seedFor } from '../world/random.ts';

export interface SmsCountry {
  code: string;
  name: string;
  dialCode: string;
  /** Digits after the dial code. */
  digits: number;
}

export interface SmsProject {
  id: string;
  name: string;
  price: Decimal;
  country: SmsCountry;
}

export interface SmsCatalogue {
  countries: SmsCountry[];
  projects: SmsProject[];
  byId: Map<string, SmsProject>;
}

const country = (code: string, name: string, dialCode: string, digits: number): SmsCountry => ({
  code,
  name,
  dialCode,
  digits,
});

const COUNTRIES: SmsCountry[] = [
  country('us', 'United States', '1', 10),
  country('gb', 'United Kingdom', '44', 10),
  country('de', 'Germany', '49', 11),
  country('fr', 'France', '33', 9),
  country('in', 'India', '91', 10),
  country('br', 'Brazil', '55', 11),
  country('id', 'Indonesia', '62', 10),
  country('ph', 'Philippines', '63', 10),
  country('ru', 'Russia', '7', 10),
  country('ca', 'Canada', '1', 10),
  country('nl', 'Netherlands', '31', 9),
  country('pl', 'Poland', '48', 9),
];

/** Project names and their price range in ten-thousandths of a dollar. */
const PROJECTS: [string, number, number][] = [
  ['OpenAI / ChatGPT', 3000, 12000],
  ['Telegram', 4000, 25000],
  ['WhatsApp', 5000, 30000],
  ['Google / Gmail', 1500, 9000],
  ['Facebook', 1000, 6000],
  ['Instagram', 1000, 7000],
  ['TikTok', 800, 5000],
  ['Discord', 1000, 6000],
  ['Microsoft', 800, 4000],
  ['Amazon', 1500, 8000],
  ['Uber', 1000, 5000],
  ['Tinder', 2000, 12000],
  ['X (Twitter)', 1000, 6000],
  ['Apple', 2000, 10000],
  ['PayPal', 3000, 15000],
  ['Any other', 500, 3000],
];

/** The first projects are offered everywhere, so every seed has at least 60; the rest in about half the countries. */
const EVERYWHERE = 5;
const SMS_SALT = 2;

export function createSmsCatalogue(seed: number): SmsCatalogue {
  const random = mulberry32(seedFor(seed, SMS_SALT));
  const projects = COUNTRIES.flatMap((where) =>
    PROJECTS.filter((_, index) => index < EVERYWHERE || random() < 0.5).map(([name, low, high]) => ({
      id: `65f${hex(random, 21)}`,
      name,
      // Prices move in half-cent steps, as the panel's do.
      price: decimal(Math.round(randomInt(random, low, high) / 50) * 50).div(10000),
      country: where,
    })),
  );
  return { countries: COUNTRIES, projects, byId: new Map(projects.map((project) => [project.id, project])) };
}
