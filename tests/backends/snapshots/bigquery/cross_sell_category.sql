WITH `t12` AS (
  SELECT DISTINCT
    *
  FROM (
    SELECT
      `t3`.`order_id`,
      COALESCE(COALESCE(`t3`.`category`, `t5`.`master_category`), '(未分類)') AS `item`
    FROM `order_items` AS `t3`
    LEFT OUTER JOIN (
      SELECT
        `t2`.`product_id`,
        `t2`.`category` AS `master_category`
      FROM `products` AS `t2`
    ) AS `t5`
      ON `t3`.`product_id` = `t5`.`product_id`
    INNER JOIN (
      SELECT
        `t0`.`order_id`,
        `t0`.`customer_id`,
        `t0`.`ordered_at`,
        DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
      FROM `orders` AS `t0`
      WHERE
        `t0`.`status` = 'completed'
        AND `t0`.`customer_id` IS NOT NULL
        AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
    ) AS `t8`
      ON `t3`.`order_id` = `t8`.`order_id`
  ) AS `t11`
), `t14` AS (
  SELECT
    `t13`.`item`,
    COUNT(*) AS `item_orders`
  FROM `t12` AS `t13`
  GROUP BY
    1
), `t25` AS (
  SELECT
    `t24`.`antecedent`,
    `t24`.`consequent`,
    COUNT(*) AS `pair_orders`
  FROM (
    SELECT
      `t18`.`order_id`,
      `t18`.`antecedent`,
      `t19`.`order_b`,
      `t19`.`consequent`
    FROM (
      SELECT
        `t13`.`order_id`,
        `t13`.`item` AS `antecedent`
      FROM `t12` AS `t13`
    ) AS `t18`
    INNER JOIN (
      SELECT
        `t13`.`order_id` AS `order_b`,
        `t13`.`item` AS `consequent`
      FROM `t12` AS `t13`
    ) AS `t19`
      ON `t18`.`order_id` = `t19`.`order_b` AND `t18`.`antecedent` < `t19`.`consequent`
  ) AS `t24`
  GROUP BY
    1,
    2
)
SELECT
  `t35`.`rule_no`,
  `t35`.`antecedent`,
  `t35`.`consequent`,
  `t35`.`pair_orders`,
  `t35`.`antecedent_orders`,
  `t35`.`consequent_orders`,
  `t35`.`support`,
  `t35`.`confidence`,
  `t35`.`lift`
FROM (
  SELECT
    `t34`.`antecedent`,
    `t34`.`consequent`,
    `t34`.`pair_orders`,
    `t34`.`antecedent_orders`,
    `t34`.`consequent_orders`,
    `t34`.`n_orders`,
    `t34`.`support`,
    `t34`.`confidence`,
    `t34`.`lift`,
    (
      ROW_NUMBER() OVER (
        ORDER BY `t34`.`lift` DESC, `t34`.`pair_orders` DESC, `t34`.`antecedent` ASC, `t34`.`consequent` ASC
      ) - 1
    ) + 1 AS `rule_no`
  FROM (
    SELECT
      *
    FROM (
      SELECT
        `t31`.`antecedent`,
        `t31`.`consequent`,
        `t31`.`pair_orders`,
        `t31`.`antecedent_orders`,
        `t31`.`consequent_orders`,
        `t31`.`n_orders`,
        ieee_divide(
          CAST(FLOOR(
            (
              ieee_divide(CAST(`t31`.`pair_orders` AS FLOAT64), NULLIF(`t31`.`n_orders`, 0)) * 10000
            ) + 0.5
          ) AS INT64),
          10000
        ) AS `support`,
        ieee_divide(
          CAST(FLOOR(
            (
              ieee_divide(CAST(`t31`.`pair_orders` AS FLOAT64), NULLIF(`t31`.`antecedent_orders`, 0)) * 10000
            ) + 0.5
          ) AS INT64),
          10000
        ) AS `confidence`,
        ieee_divide(
          CAST(FLOOR(
            (
              ieee_divide(
                CAST(`t31`.`pair_orders` * `t31`.`n_orders` AS FLOAT64),
                NULLIF(`t31`.`antecedent_orders` * `t31`.`consequent_orders`, 0)
              ) * 10000
            ) + 0.5
          ) AS INT64),
          10000
        ) AS `lift`
      FROM (
        SELECT
          `t30`.`antecedent`,
          `t30`.`consequent`,
          `t30`.`pair_orders`,
          `t22`.`antecedent_orders`,
          `t23`.`consequent_orders`,
          `t10`.`n_orders`
        FROM (
          SELECT
            *
          FROM (
            SELECT
              *
            FROM `t25` AS `t26`
            WHERE
              `t26`.`pair_orders` >= 3
          ) AS `t27`
          UNION ALL
          SELECT
            *
          FROM (
            SELECT
              `t26`.`consequent` AS `antecedent`,
              `t26`.`antecedent` AS `consequent`,
              `t26`.`pair_orders`
            FROM `t25` AS `t26`
            WHERE
              `t26`.`pair_orders` >= 3
          ) AS `t28`
        ) AS `t30`
        INNER JOIN (
          SELECT
            `t17`.`item` AS `antecedent`,
            `t17`.`item_orders` AS `antecedent_orders`
          FROM `t14` AS `t17`
        ) AS `t22`
          ON `t30`.`antecedent` = `t22`.`antecedent`
        INNER JOIN (
          SELECT
            `t17`.`item` AS `consequent`,
            `t17`.`item_orders` AS `consequent_orders`
          FROM `t14` AS `t17`
        ) AS `t23`
          ON `t30`.`consequent` = `t23`.`consequent`
        CROSS JOIN (
          SELECT
            COUNT(*) AS `n_orders`
          FROM (
            SELECT
              `t0`.`order_id`,
              `t0`.`customer_id`,
              `t0`.`ordered_at`,
              `t0`.`status`,
              `t0`.`channel`,
              `t0`.`subtotal`,
              `t0`.`discount`,
              `t0`.`shipping_fee`,
              `t0`.`points_used`,
              `t0`.`total`,
              `t0`.`points_earned`,
              `t0`.`coupon_code`,
              `t0`.`subscription_id`,
              `t0`.`payment_method`,
              `t0`.`shipping_prefecture`,
              `t0`.`is_gift`,
              DATE(TIMESTAMP_ADD(`t0`.`ordered_at`, INTERVAL '9' HOUR)) AS `order_date`
            FROM `orders` AS `t0`
            WHERE
              `t0`.`status` = 'completed'
              AND `t0`.`customer_id` IS NOT NULL
              AND `t0`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
          ) AS `t6`
        ) AS `t10`
      ) AS `t31`
    ) AS `t32`
    ORDER BY
      `t32`.`lift` DESC,
      `t32`.`pair_orders` DESC,
      `t32`.`antecedent` ASC NULLS LAST,
      `t32`.`consequent` ASC NULLS LAST
    LIMIT 100
  ) AS `t34`
) AS `t35`
ORDER BY
  `t35`.`rule_no` ASC NULLS LAST
