SELECT
  "t11"."rank_no",
  "t11"."category",
  "t11"."revenue",
  "t11"."quantity",
  "t11"."orders",
  "t11"."customers",
  "t11"."revenue_share",
  "t11"."cumulative_share",
  "t11"."abc_rank"
FROM (
  SELECT
    "t10"."category",
    "t10"."revenue",
    "t10"."quantity",
    "t10"."orders",
    "t10"."customers",
    "t10"."cum",
    "t10"."rank_no",
    CAST(FLOOR(
      (
        (
          CAST("t10"."revenue" AS DOUBLE) / NULLIF(
            SUM("t10"."revenue") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
            0
          )
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "revenue_share",
    CAST(FLOOR(
      (
        (
          CAST("t10"."cum" AS DOUBLE) / NULLIF(
            SUM("t10"."revenue") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
            0
          )
        ) * 10000
      ) + 0.5
    ) AS BIGINT) / 10000 AS "cumulative_share",
    CASE
      WHEN (
        CAST("t10"."cum" - "t10"."revenue" AS DOUBLE) / SUM("t10"."revenue") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
      ) < 0.7
      THEN 'A'
      WHEN (
        CAST("t10"."cum" - "t10"."revenue" AS DOUBLE) / SUM("t10"."revenue") OVER (ORDER BY NULL ASC ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
      ) < 0.9
      THEN 'B'
      ELSE 'C'
    END AS "abc_rank"
  FROM (
    SELECT
      "t9"."category",
      "t9"."revenue",
      "t9"."quantity",
      "t9"."orders",
      "t9"."customers",
      SUM("t9"."revenue") OVER (
        ORDER BY "t9"."revenue" DESC NULLS LAST, "t9"."category" ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ) AS "cum",
      (
        ROW_NUMBER() OVER (ORDER BY "t9"."revenue" DESC NULLS LAST, "t9"."category" ASC) - 1
      ) + 1 AS "rank_no"
    FROM (
      SELECT
        "t8"."category",
        SUM("t8"."amount") AS "revenue",
        SUM("t8"."quantity") AS "quantity",
        COUNT(DISTINCT "t8"."order_id") AS "orders",
        COUNT(DISTINCT "t8"."customer_id") AS "customers"
      FROM (
        SELECT
          "t3"."order_id",
          "t3"."line_no",
          "t3"."product_id",
          "t3"."quantity",
          "t3"."amount",
          COALESCE(COALESCE("t3"."category", "t5"."master_category"), '(未分類)') AS "category",
          "t7"."customer_id",
          "t7"."ordered_at",
          "t7"."order_date"
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
      GROUP BY
        1
    ) AS "t9"
  ) AS "t10"
) AS "t11"
ORDER BY
  "t11"."rank_no" ASC
