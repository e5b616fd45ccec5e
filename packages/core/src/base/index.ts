export { BaseImage, type BaseInodeInfo } from "./base-image.js";
