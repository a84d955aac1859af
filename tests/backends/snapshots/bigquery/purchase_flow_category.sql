WITH `t10` AS (
  SELECT
    `t6`.`order_id`,
    `t6`.`customer_id`,
    `t6`.`ordered_at`,
    `t6`.`status`,
    `t6`.`channel`,
    `t6`.`subtotal`,
    `t6`.`discount`,
    `t6`.`shipping_fee`,
    `t6`.`points_used`,
    `t6`.`total`,
    `t6`.`points_earned`,
    `t6`.`coupon_code`,
    `t6`.`subscription_id`,
    `t6`.`payment_method`,
    `t6`.`shipping_prefecture`,
    `t6`.`is_gift`,
    `t6`.`order_date`,
    (
      ROW_NUMBER() OVER (
        PARTITION BY `t6`.`customer_id`
        ORDER BY `t6`.`ordered_at` ASC, `t6`.`order_id` ASC
      ) - 1
    ) + 1 AS `order_no`
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
), `t17` AS (
  SELECT
    `t12`.`order_id`,
    `t12`.`category`,
    `t12`.`amount`,
    ROW_NUMBER() OVER (PARTITION BY `t12`.`order_id` ORDER BY `t12`.`amount` DESC, `t12`.`category` ASC) - 1 AS `rn`
  FROM (
    SELECT
      `t9`.`order_id`,
      `t9`.`category`,
      SUM(`t9`.`amount`) AS `amount`
    FROM (
      SELECT
        `t3`.`order_id`,
        `t3`.`line_no`,
        `t3`.`product_id`,
        `t3`.`quantity`,
        `t3`.`amount`,
        COALESCE(COALESCE(`t3`.`category`, `t5`.`master_category`), '(未分類)') AS `category`,
        `t8`.`customer_id`,
        `t8`.`ordered_at`,
        `t8`.`order_date`
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
    ) AS `t9`
    GROUP BY
      1,
      2
  ) AS `t12`
)
SELECT
  *
FROM (
  SELECT
    `t28`.`from_item`,
    `t28`.`to_item`,
    `t28`.`customers`,
    ieee_divide(
      CAST(FLOOR(
        (
          ieee_divide(
            CAST(`t28`.`customers` AS FLOAT64),
            NULLIF(
              SUM(`t28`.`customers`) OVER (
                PARTITION BY `t28`.`from_item`
                ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
              ),
              0
            )
          ) * 10000
        ) + 0.5
      ) AS INT64),
      10000
    ) AS `share_of_from`
  FROM (
    SELECT
      `t27`.`from_item`,
      `t27`.`to_item`,
      COUNT(`t27`.`customer_id`) AS `customers`
    FROM (
      SELECT
        `t26`.`customer_id`,
        `t26`.`first_order`,
        `t26`.`first_date`,
        `t26`.`second_order`,
        `t26`.`second_date`,
        `t26`.`from_item`,
        `t26`.`second_order_right`,
        COALESCE(`t26`.`to_item`, '(2回目なし)') AS `to_item`
      FROM (
        SELECT
          `t21`.`customer_id`,
          `t21`.`first_order`,
          `t21`.`first_date`,
          `t21`.`second_order`,
          `t21`.`second_date`,
          `t24`.`from_item`,
          `t25`.`second_order` AS `second_order_right`,
          `t25`.`to_item`
        FROM (
          SELECT
            `t19`.*
            EXCEPT (`customer_id_right`)
          FROM (
            SELECT
              `t15`.`customer_id`,
              `t15`.`first_order`,
              `t15`.`first_date`,
              `t16`.`customer_id` AS `customer_id_right`,
              `t16`.`second_order`,
              `t16`.`second_date`
            FROM (
              SELECT
                `t11`.`customer_id`,
                `t11`.`order_id` AS `first_order`,
                `t11`.`order_date` AS `first_date`
              FROM `t10` AS `t11`
              WHERE
                `t11`.`order_no` = 1
            ) AS `t15`
            LEFT OUTER JOIN (
              SELECT
                `t11`.`customer_id`,
                `t11`.`order_id` AS `second_order`,
                `t11`.`order_date` AS `second_date`
              FROM `t10` AS `t11`
              WHERE
                `t11`.`order_no` = 2
            ) AS `t16`
              ON `t15`.`customer_id` = `t16`.`customer_id`
          ) AS `t19`
        ) AS `t21`
        INNER JOIN (
          SELECT
            `t18`.`order_id` AS `first_order`,
            `t18`.`category` AS `from_item`
          FROM `t17` AS `t18`
          WHERE
            `t18`.`rn` = 0
        ) AS `t24`
          ON `t21`.`first_order` = `t24`.`first_order`
        LEFT OUTER JOIN (
          SELECT
            `t18`.`order_id` AS `second_order`,
            `t18`.`category` AS `to_item`
          FROM `t17` AS `t18`
          WHERE
            `t18`.`rn` = 0
        ) AS `t25`
          ON `t21`.`second_order` = `t25`.`second_order`
      ) AS `t26`
    ) AS `t27`
    GROUP BY
      1,
      2
  ) AS `t28`
) AS `t29`
ORDER BY
  `t29`.`from_item` ASC NULLS LAST,
  `t29`.`customers` DESC,
  `t29`.`to_item` ASC NULLS LAST
