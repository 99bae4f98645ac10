import { freshS3Store } from '../../helpers/s3-buckets.js';
import { storageConformance } from './suite.js';

// 1005 keys: listings cross s3rver's 1000-key page. s3rver walks its directories to list, so
// `p/a/` comes before `p/a-c/` there (real S3 and MinIO sort by bytes).
storageConformance('s3 (s3rver)', () => freshS3Store(), { manyKeys: 1005, serverListsInWalkOrder: true });
