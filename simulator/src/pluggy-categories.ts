import categoriesResponse from "./data/pluggy-categories.json" with { type: "json" };

/**
 * Pluggy's category tree, exactly as Pluggy's `GET /categories` answered it (data/pluggy-categories.json
 * is a recorded real response: 130 categories, ids up to three levels deep, e.g. `19050001` "Gas
 * stations" under `19050000` "Automotive" under `19000000` "Transportation"). Roots carry no
 * `parentId`/`parentDescription` at all. The simulator serves this list unchanged; the app's default
 * local tree maps onto these ids.
 */
export interface SimCategory {
  id: string;
  description: string;
  descriptionTranslated: string;
  parentId?: string;
  parentDescription?: string;
}

export const PLUGGY_CATEGORIES: readonly SimCategory[] = categoriesResponse.results;
