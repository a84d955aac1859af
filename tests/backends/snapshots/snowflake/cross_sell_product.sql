WITH "t10" AS (
  SELECT DISTINCT
    *
  FROM (
    SELECT
      "t4"."order_id",
      "t4"."item"
    FROM (
      SELECT
        "t1"."order_id",
        "t1"."product_id" AS "item"
      FROM "order_items" AS "t1"
    ) AS "t4"
    WHERE
      EXISTS(
        SELECT
          1
        FROM (
          SELECT
            "t0"."order_id"
          FROM "orders" AS "t0"
          WHERE
            "t0"."status" = 'completed'
            AND "t0"."customer_id" IS NOT NULL
            AND "t0"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
        ) AS "t6"
        WHERE
          "t4"."order_id" = "t6"."order_id"
      )
  ) AS "t9"
), "t12" AS (
  SELECT
    "t11"."item",
    COUNT(*) AS "item_orders"
  FROM "t10" AS "t11"
  GROUP BY
    1
), "t23" AS (
  SELECT
    "t22"."antecedent",
    "t22"."consequent",
    COUNT(*) AS "pair_orders"
  FROM (
    SELECT
      "t16"."order_id",
      "t16"."antecedent",
      "t17"."order_b",
      "t17"."consequent"
    FROM (
      SELECT
        "t11"."order_id",
        "t11"."item" AS "antecedent"
      FROM "t10" AS "t11"
    ) AS "t16"
    INNER JOIN (
      SELECT
        "t11"."order_id" AS "order_b",
        "t11"."item" AS "consequent"
      FROM "t10" AS "t11"
    ) AS "t17"
      ON "t16"."order_id" = "t17"."order_b" AND "t16"."antecedent" < "t17"."consequent"
  ) AS "t22"
  GROUP BY
    1,
    2
)
SELECT
  "t33"."rule_no",
  "t33"."antecedent",
  "t33"."consequent",
  "t33"."pair_orders",
  "t33"."antecedent_orders",
  "t33"."consequent_orders",
  "t33"."support",
  "t33"."confidence",
  "t33"."lift"
FROM (
  SELECT
    "t32"."antecedent",
    "t32"."consequent",
    "t32"."pair_orders",
    "t32"."antecedent_orders",
    "t32"."consequent_orders",
    "t32"."n_orders",
    "t32"."support",
    "t32"."confidence",
    "t32"."lift",
    (
      ROW_NUMBER() OVER (
        ORDER BY "t32"."lift" DESC NULLS LAST, "t32"."pair_orders" DESC NULLS LAST, "t32"."antecedent" ASC, "t32"."consequent" ASC
      ) - 1
    ) + 1 AS "rule_no"
  FROM (
    SELECT
      *
    FROM (
      SELECT
        "t29"."antecedent",
        "t29"."consequent",
        "t29"."pair_orders",
        "t29"."antecedent_orders",
        "t29"."consequent_orders",
        "t29"."n_orders",
        CAST(FLOOR(
          (
            (
              CAST("t29"."pair_orders" AS DOUBLE) / NULLIF("t29"."n_orders", 0)
            ) * 10000
          ) + 0.5
        ) AS BIGINT) / 10000 AS "support",
        CAST(FLOOR(
          (
            (
              CAST("t29"."pair_orders" AS DOUBLE) / NULLIF("t29"."antecedent_orders", 0)
            ) * 10000
          ) + 0.5
        ) AS BIGINT) / 10000 AS "confidence",
        CAST(FLOOR(
          (
            (
              CAST("t29"."pair_orders" * "t29"."n_orders" AS DOUBLE) / NULLIF("t29"."antecedent_orders" * "t29"."consequent_orders", 0)
            ) * 10000
          ) + 0.5
        ) AS BIGINT) / 10000 AS "lift"
      FROM (
        SELECT
          "t28"."antecedent",
          "t28"."consequent",
          "t28"."pair_orders",
          "t20"."antecedent_orders",
          "t21"."consequent_orders",
          "t8"."n_orders"
        FROM (
          SELECT
            *
          FROM (
            SELECT
              *
            FROM "t23" AS "t24"
            WHERE
              "t24"."pair_orders" >= 3
          ) AS "t25"
          UNION ALL
          SELECT
            *
          FROM (
            SELECT
              "t24"."consequent" AS "antecedent",
              "t24"."antecedent" AS "consequent",
              "t24"."pair_orders"
            FROM "t23" AS "t24"
            WHERE
              "t24"."pair_orders" >= 3
          ) AS "t26"
        ) AS "t28"
        INNER JOIN (
          SELECT
            "t15"."item" AS "antecedent",
            "t15"."item_orders" AS "antecedent_orders"
          FROM "t12" AS "t15"
        ) AS "t20"
          ON "t28"."antecedent" = "t20"."antecedent"
        INNER JOIN (
          SELECT
            "t15"."item" AS "consequent",
            "t15"."item_orders" AS "consequent_orders"
          FROM "t12" AS "t15"
        ) AS "t21"
          ON "t28"."consequent" = "t21"."consequent"
        CROSS JOIN (
          SELECT
            COUNT(*) AS "n_orders"
          FROM (
            SELECT
              "t0"."order_id",
              "t0"."customer_id",
              "t0"."ordered_at",
              "t0"."status",
              "t0"."channel",
              "t0"."subtotal",
              "t0"."discount",
              "t0"."shipping_fee",
              "t0"."points_used",
              "t0"."total",
              "t0"."points_earned",
              "t0"."coupon_code",
              "t0"."subscription_id",
              "t0"."payment_method",
              "t0"."shipping_prefecture",
              "t0"."is_gift",
              TO_DATE(DATEADD(HOUR, '9', "t0"."ordered_at")) AS "order_date"
            FROM "orders" AS "t0"
            WHERE
              "t0"."status" = 'completed'
              AND "t0"."customer_id" IS NOT NULL
              AND "t0"."ordered_at" < TIMESTAMP_FROM_PARTS(2026, 10, 31, 15, 0, 0, 0)
          ) AS "t5"
        ) AS "t8"
      ) AS "t29"
    ) AS "t30"
    ORDER BY
      "t30"."lift" DESC NULLS LAST,
      "t30"."pair_orders" DESC NULLS LAST,
      "t30"."antecedent" ASC,
      "t30"."consequent" ASC
    LIMIT 100
  ) AS "t32"
) AS "t33"
ORDER BY
  "t33"."rule_no" ASC
