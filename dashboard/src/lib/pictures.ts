import { notify } from '../state/notices.ts';

/** Pictures only: anything else is named and refused before it is sent. */
export function picturesOf(files: FileList | File[] | null, what: string): File[] {
  const all = [...(files ?? [])];
  const refused = all.filter((f) => !/^image\//.test(f.type) && !/\.(png|jpe?g|bmp|tiff?|webp|gif)$/i.test(f.name));
  if (refused.length) {
    const names =
      refused
        .slice(0, 5)
        .map((f) => f.name)
        .join(', ') + (refused.length > 5 ? ` and ${refused.length - 5} more` : '');
    notify(
      `Not ${what}: ${names}`,
      new Error(
        `${refused.length === 1 ? 'this file is' : 'these files are'} not a picture (PNG, JPEG, BMP, TIFF or WebP); nothing of ${refused.length === 1 ? 'it' : 'them'} was sent`,
      ),
    );
  }
  return all.filter((f) => !refused.includes(f));
}
