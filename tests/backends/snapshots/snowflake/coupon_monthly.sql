SELECT
  "t3"."month",
  "t3"."granted",
  "t3"."used",
  "t3"."median_days_to_use",
  CAST(FLOOR(
    (
      (
        CAST("t3"."used" AS DOUBLE) / NULLIF("t3"."granted", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "redemption_rate"
FROM (
  SELECT
    "t2"."month",
    COUNT("t2"."grant_id") AS "granted",
    SUM("t2"."used") AS "used",
    MEDIAN("t2"."days_to_use") AS "median_days_to_use"
  FROM (
    SELECT
      "t1"."grant_id",
      "t1"."coupon_id",
      "t1"."customer_id",
      "t1"."code",
      "t1"."granted_at",
      "t1"."expires_at",
      "t1"."used_at",
      "t1"."order_id",
      "t1"."source",
      "t1"."granted_on",
      "t1"."used_on",
      DATE_TRUNC('MONTH', "t1"."granted_on") AS "month",
      IFF(
        (
          "t1"."used_on" IS NOT NULL
        )
        AND (
          "t1"."used_on" <= DATE_FROM_PARTS(2026, 10, 31)
        ),
        1,
        0
      ) AS "used",
      IFF(
        (
          "t1"."used_on" IS NOT NULL
        )
        AND (
          "t1"."used_on" <= DATE_FROM_PARTS(2026, 10, 31)
        ),
        DATEDIFF(DAY, "t1"."granted_on", "t1"."used_on"),
        NULL
      ) AS "days_to_use"
    FROM (
      SELECT
        "t0"."grant_id",
        "t0"."coupon_id",
        "t0"."customer_id",
        "t0"."code",
        "t0"."granted_at",
        "t0"."expires_at",
        "t0"."used_at",
        "t0"."order_id",
        "t0"."source",
        TO_DATE(DATEADD(HOUR, '9', "t0"."granted_at")) AS "granted_on",
        TO_DATE(DATEADD(HOUR, '9', "t0"."used_at")) AS "used_on"
      FROM "coupon_grants" AS "t0"
      WHERE
        TO_DATE(DATEADD(HOUR, '9', "t0"."granted_at")) <= DATE_FROM_PARTS(2026, 10, 31)
    ) AS "t1"
  ) AS "t2"
  GROUP BY
    1
) AS "t3"
ORDER BY
  "t3"."month" ASC
