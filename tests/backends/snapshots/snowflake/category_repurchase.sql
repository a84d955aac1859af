WITH "t10" AS (
  SELECT
    "t9"."customer_id",
    "t9"."order_id",
    "t9"."order_date",
    "t9"."category",
    DATEDIFF(
      DAY,
      LAG("t9"."order_date") OVER (
        PARTITION BY "t9"."customer_id", "t9"."category"
        ORDER BY "t9"."order_date" ASC, "t9"."order_id" ASC
      ),
      "t9"."order_date"
    ) AS "gap"
  FROM (
    SELECT DISTINCT
      *
    FROM (
      SELECT
        "t7"."customer_id",
        "t3"."order_id",
        "t7"."order_date",
        COALESCE(COALESCE("t3"."category", "t5"."master_category"), '(未分類)') AS "category"
      FROM "order_items" AS "t3"
      LEFT OUTER JOIN (
        SELECT
          "t1"."product_id",
          "t1"."category" AS "master_category"
        FROM "products" AS "t1"
      ) AS "t5"
        ON "t3"."product_id" = "t5"."product_id"
      INNER JOIN (
        SELECT
          "t2"."order_id",
          "t2"."customer_id",
          "t2"."ordered_at",
          TO_DATE(DATEADD(HOUR, '9', "t2"."ordered_at")) AS "order_date"
        FROM "orders" AS "t2"
        WHERE
          "t2"."status" = 'completed'
          AND "t2"."customer_id" IS NOT NULL
          AND "t2"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
      ) AS "t7"
        ON "t3"."order_id" = "t7"."order_id"
    ) AS "t8"
  ) AS "t9"
)
SELECT
  "t19"."category",
  "t19"."buyers",
  "t19"."repurchasers",
  "t19"."median_days_between",
  CAST(FLOOR(
    (
      (
        CAST("t19"."repurchasers" AS DOUBLE) / NULLIF("t19"."buyers", 0)
      ) * 10000
    ) + 0.5
  ) AS BIGINT) / 10000 AS "repurchase_rate"
FROM (
  SELECT
    "t18".*
    EXCLUDE ("category_right")
  FROM (
    SELECT
      "t17"."category",
      "t17"."buyers",
      "t17"."repurchasers",
      "t15"."category" AS "category_right",
      "t15"."median_days_between"
    FROM (
      SELECT
        "t12"."category",
        COUNT("t12"."customer_id") AS "buyers",
        SUM(IFF("t12"."orders" >= 2, 1, 0)) AS "repurchasers"
      FROM (
        SELECT
          "t11"."customer_id",
          "t11"."category",
          COUNT("t11"."order_id") AS "orders",
          MIN("t11"."gap") AS "first_gap"
        FROM "t10" AS "t11"
        GROUP BY
          1,
          2
      ) AS "t12"
      GROUP BY
        1
    ) AS "t17"
    LEFT OUTER JOIN (
      SELECT
        "t13"."category",
        MEDIAN("t13"."gap") AS "median_days_between"
      FROM (
        SELECT
          *
        FROM "t10" AS "t11"
        WHERE
          "t11"."gap" IS NOT NULL
      ) AS "t13"
      GROUP BY
        1
    ) AS "t15"
      ON "t17"."category" = "t15"."category"
  ) AS "t18"
) AS "t19"
ORDER BY
  "t19"."buyers" DESC NULLS LAST,
  "t19"."category" ASC
