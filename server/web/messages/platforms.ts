/** The platforms pages' words. */
export const en = {
};

export const fr: Record<keyof typeof en, string> = {
};
