export {
  DEFAULT_MAX_PROBLEMS,
  formatProblem,
  type Problem,
  type ProblemKind,
  problemLine,
  type ValidationReport,
  type ValidationStats,
  validationStatsText,
} from "../problems.js";
export { type ValidateOptions, validate } from "./validate.js";
