/**
 * The real photographs the quality benchmark is built from: every one ships in a Debian package
 * (bookworm), pinned by package version and checked by sha256 when it is fetched
 * (bench/photos/fetch.ts). None of them is generated; defects are painted onto them
 * (bench/photos/paint.ts).
 *
 * Textures: each picture is a crop of one photograph of the material. Crops for training come
 * from some blocks of the photograph and crops for testing from the others (a checkerboard,
 * bench/photos/dataset.ts), so no test picture shares a pixel with a training picture: the
 * surface under the camera is always new, as it is on a line.
 * Aligned parts: one photograph of a rigid object, placed in a simulated fixture (every picture
 * shifted up to ±3 px, turned up to ±2°, lit with a different gain, gradient and colour
 * temperature, with sensor noise and JPEG compression).
 */

export interface DebianFile {
  /** Debian package and exact version (`apt-get download name=version`). */
  package: string;
  version: string;
  /** Path inside the package. */
  path: string;
  sha256: string;
  licence: string;
  author: string;
}

export interface TextureSource extends DebianFile {
  family: 'texture';
  category: string;
  /** Region of the photograph used (pixels of the original); the rest is ignored (blur, sky...). */
  region?: { x: number; y: number; width: number; height: number };
  /** Crop side in the (region of the) photograph; pictures are this crop resized to the picture size. */
  crop: number;
  note: string;
}

export interface PartSource extends DebianFile {
  family: 'part';
  category: string;
  /** The object's region in the photograph (the fixture's field of view). */
  region?: { x: number; y: number; width: number; height: number };
  /** Picture size (the camera's resolution in this benchmark). */
  width: number;
  height: number;
  note: string;
}

export type PhotoSource = TextureSource | PartSource;

const STK = { package: 'supertuxkart-data', version: '1.4+dfsg-2', author: 'SuperTuxKart team', licence: 'GPL-3+ (debian/copyright, Files: *)' };
const STK_DIR = '/usr/share/games/supertuxkart/data/textures/';
const TORCS = { package: 'torcs-data', version: '1.3.7+dfsg-5', author: 'Jean-Christophe Durieu (TORCS e-track-2)', licence: 'Free Art License' };
const TORCS_DIR = '/usr/share/games/torcs/tracks/road/e-track-2/';
const MATE = { package: 'mate-backgrounds', version: '1.26.0-1', licence: 'GPL-2+' };
const OPENCV = { package: 'opencv-doc', version: '4.6.0+dfsg-12', author: 'OpenCV sample data', licence: 'Apache-2.0 AND BSD-3-Clause' };

export const TEXTURE_SOURCES: readonly TextureSource[] = [
  {
    family: 'texture',
    category: 'wood',
    ...MATE,
    author: 'Jean-François Fortin Tam, 2008',
    path: '/usr/share/backgrounds/mate/nature/Wood.jpg',
    sha256: '19c78500ac00a622e19907ab9cc7d06d46fe08c4a6142759a84195696150ec07',
    // the photograph is sharp only in a band across its middle (shallow depth of field), and
    // further right that band holds the edge between two boards
    region: { x: 0, y: 830, width: 1380, height: 420 },
    crop: 320,
    note: 'weathered wooden boards, photographed at an angle (grain scale changes across the picture)',
  },
  {
    family: 'texture',
    category: 'grass',
    ...MATE,
    author: 'Timothy Schellhase 2005, Lapo Calamandrei 2008',
    path: '/usr/share/backgrounds/mate/nature/GreenMeadow.jpg',
    sha256: '8fa0de0aa4089f7319c9fb7a6d006d4cab6023e8c8853731557cff53567b4832',
    crop: 384,
    note: 'close-up of young grass blades',
  },
  {
    family: 'texture',
    category: 'moss',
    package: 'plasma-workspace-wallpapers',
    version: '4:5.27.5-2',
    author: 'KDE Visual Design Group',
    licence: 'GPL-2+',
    path: '/usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg',
    sha256: 'cb507baf1dafdcae362264f3aba9483ed4be5f6c9fdd770f0ec0920c6d9e80fd',
    // below this band lie bare soil and the one orange plant the wallpaper is named for
    region: { x: 0, y: 0, width: 2560, height: 680 },
    crop: 512,
    note: 'star moss seen from above (foliage)',
  },
  {
    family: 'texture',
    category: 'stone',
    ...TORCS,
    path: `${TORCS_DIR}rock-wall-e2.png`,
    sha256: 'b304f50952ebc701aba57f0d9f1f33e631c5eaf32c7dbfabe56d5857230ac8c5',
    crop: 256,
    note: 'dry-stone wall with some plants in the joints',
  },
  {
    family: 'texture',
    category: 'gravel',
    ...TORCS,
    path: `${TORCS_DIR}gravel-e2.png`,
    sha256: 'eafa73c9776002be6958a6af4f70ac5cfc0b922027762614675e5b669968ccaf',
    crop: 256,
    note: 'gravel trap',
  },
  {
    family: 'texture',
    category: 'fabric',
    ...STK,
    path: `${STK_DIR}stk_generic_plasticFabric_a.png`,
    sha256: '9d84646c6da61bca765b7f64381ef4337485203f3340b489cb24d6ae94e98803',
    crop: 256,
    note: 'worn blue woven plastic fabric (tarpaulin)',
  },
  {
    family: 'texture',
    category: 'wicker',
    ...STK,
    path: `${STK_DIR}stk_generic_wickerA.png`,
    sha256: '190f656baa17ae345b24bd5a83be8ede5b298d2a0d9fd868215ef16a31cffddc',
    crop: 256,
    note: 'wicker weave: a regular pattern with irregular strands',
  },
  {
    family: 'texture',
    category: 'metal',
    ...STK,
    path: `${STK_DIR}stk_generic_corrugatedIronA.png`,
    sha256: 'e6d2838baf7724c12eddaf81a6d76e1edf9252b9c080dc5671253bebb73cd8a1',
    crop: 256,
    note: 'rusty corrugated iron sheet',
  },
];

export const PART_SOURCES: readonly PartSource[] = [
  {
    family: 'part',
    category: 'pcb',
    ...OPENCV,
    path: '/usr/share/doc/opencv-doc/examples/data/board.jpg',
    sha256: '4c9a24ba67138ad5486d550f586cc5dd1161be112f1c1bea336d6c550cdf255f',
    region: { x: 80, y: 20, width: 480, height: 440 },
    width: 256,
    height: 235,
    note: 'populated circuit board (ICs, capacitors, resistors, traces)',
  },
  {
    family: 'part',
    category: 'package',
    ...OPENCV,
    path: '/usr/share/doc/opencv-doc/examples/data/box.png',
    sha256: '1094629c1e2ebbc8a9ae2c9c63e18c1dff0f5f1481146e02f3b11a3d30feb20a',
    width: 256,
    height: 176,
    note: 'printed cookie box (label inspection), greyscale',
  },
  {
    family: 'part',
    category: 'clock',
    package: 'lomiri-wallpapers-16.04',
    version: '20.04.0-2',
    author: 'Peter Nerlich, 2018',
    licence: 'CC-BY-SA-4.0',
    path: '/usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg',
    sha256: 'e7b20e2db9dcd6e2b278ca55873c2110b35d89cd38b04d0b18728726888e6889',
    region: { x: 216, y: 56, width: 2448, height: 2048 },
    width: 320,
    height: 268,
    note: 'wall clock: hands, applied indices, brushed dial (also the 2448x2048 camera-size set)',
  },
];

export const PHOTO_SOURCES: readonly PhotoSource[] = [...TEXTURE_SOURCES, ...PART_SOURCES];
